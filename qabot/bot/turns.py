"""Each sender's questions one at a time and in order, a few waiting, the rest skipped and counted; no Telegram.

Someone who sends a burst of questions gets the first answered, up to :data:`MAX_WAITING` more answered after it in
the order sent, and, after the last answer, one line saying how many were skipped. Nothing vanishes silently, and
no "slow down" overtakes the answer it is about. Only senders with a question in hand are kept, so memory stays
flat however many people write.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_WAITING = 3  # questions a sender may have waiting behind the one being answered


@dataclass
class _Line(Generic[T]):
    waiting: deque[T] = field(default_factory=deque)
    skipped: int = 0


class Turns(Generic[T]):
    """The senders with a question being answered, and what waits behind it (``waiting=None``: no limit)."""

    def __init__(self, waiting: int | None = MAX_WAITING) -> None:
        self.waiting = waiting
        self._lines: dict[int, _Line[T]] = {}
        self._idle: asyncio.Event | None = None

    def offer(self, sender: int, item: T) -> bool:
        """True: ``sender`` had nothing in hand, so the caller answers ``item`` now and then calls :meth:`next`.
        False: it waits behind the question being answered, or, with too many waiting, is skipped (and counted)."""
        line = self._lines.get(sender)
        if line is None:
            self._lines[sender] = _Line()
            self._event().clear()
            return True
        if self.waiting is None or len(line.waiting) < self.waiting:
            line.waiting.append(item)
        else:
            line.skipped += 1
        return False

    def waits(self, sender: int, item: T) -> bool:
        """Whether ``item`` waits behind ``sender``'s question in hand (rather than being skipped)."""
        line = self._lines.get(sender)
        return line is not None and any(w is item for w in line.waiting)

    def next(self, sender: int) -> tuple[T | None, int]:
        """The sender's next waiting item, or (None, how many were skipped) when none is left: the turn is over."""
        line = self._lines[sender]
        if line.waiting:
            return line.waiting.popleft(), 0
        del self._lines[sender]
        if not self._lines:
            self._event().set()
        return None, line.skipped

    async def idle(self) -> None:
        """Wait until no sender has a question in hand (every accepted question was answered)."""
        await self._event().wait()

    def _event(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            if not self._lines:
                self._idle.set()
        return self._idle


__all__ = ["MAX_WAITING", "Turns"]
