"""Each Telegram update handled once across replicas: taken before any handler runs, finished once answered.

Telegram retries a webhook call that did not get its 200 in time, and behind a load balancer the retry may reach
another replica than the first try, which may still be working on it. So before any handler runs, the replica
*takes* the update in the shared state under a short lease (:data:`LEASE` seconds, renewed every
:data:`RENEW_EVERY` while it works); once the update is fully handled (a question: once its answer was sent) it is
*finished*, kept a day as done. Another replica that gets the same update then

- finds it done: drops it silently (logged at debug);
- finds it held under a live lease: waits (polling every :data:`POLL` seconds) until it is done (then drops it) or
  the lease lapses — its holder died before answering — and then takes it and answers it itself.

So a replica that takes an update and crashes costs a delay of at most a lease, never the answer, as long as
Telegram retries (it does while the webhook did not answer 200; PTB answers 200 once the update is queued, so an
update whose 200 went out is not retried by Telegram, and a crash after that loses it whatever the state does).
A state that cannot be reached lets the update through: a rare double answer beats a lost one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket

from qabot.bot.state import StateStore, StateUnavailable, Taken

log = logging.getLogger(__name__)

LEASE = 30.0  # seconds a taken update stays this replica's without renewal; longer than any pause of the loop
RENEW_EVERY = 10.0  # seconds between renewals of the leases this replica holds
POLL = 0.25  # seconds between looks at an update another replica holds


def replica_name() -> str:
    """This process among the replicas: host, pid and a random part (two bots in one test process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class UpdateClaims:
    """The updates this replica has taken and not finished, their lease renewals, and the waiting for others'."""

    def __init__(
        self, state: StateStore, *, lease: float = LEASE, renew_every: float = RENEW_EVERY, poll: float = POLL
    ) -> None:
        self.state = state
        self.holder = replica_name()
        self.lease = lease
        self.renew_every = renew_every
        self.poll = poll
        self.held: set[int] = set()
        self.deferred: set[int] = set()  # held past their handlers: a question waiting for its turn
        self._down = False
        self._order = asyncio.Lock()
        self._renewing: asyncio.Task[None] | None = None

    async def take(self, update_id: int) -> bool:
        """True when this replica is to handle the update; False for one another replica handled (or handles and
        then finishes). Waits while another holds it under a live lease.

        First looks are made one at a time, in the order the updates arrived: the handlers of a taken update then
        start before the next one is looked at, so one sender's questions keep their order (``qabot.bot.turns``).
        """
        async with self._order:
            taken = await self._look(update_id)
        while taken == "held":
            await asyncio.sleep(self.poll)
            taken = await self._look(update_id)
        if taken == "done":
            log.debug("Update %s was handled already (a retry); dropped", update_id)
            return False
        self.held.add(update_id)
        return True

    async def _look(self, update_id: int) -> Taken:
        try:
            taken = await self.state.take_update(update_id, self.holder, self.lease)
        except StateUnavailable as err:
            self._warn(err)
            return "mine"
        self._works()
        return taken

    def defer(self, update_id: int) -> None:
        """The update's work goes on after its handlers return (a question waiting its turn): finished later."""
        if update_id in self.held:
            self.deferred.add(update_id)

    async def finish(self, update_id: int) -> None:
        """The update is fully handled: done for every replica."""
        self.deferred.discard(update_id)
        if update_id not in self.held:
            return
        self.held.discard(update_id)
        try:
            await self.state.finish_update(update_id)
        except StateUnavailable as err:
            self._warn(err)

    async def handled(self, update_id: int) -> None:
        """Its handlers returned: finish it unless its work was deferred."""
        if update_id not in self.deferred:
            await self.finish(update_id)

    def start(self) -> None:
        """Renew this replica's leases every ``renew_every`` seconds while the bot runs."""
        if self._renewing is None:
            self._renewing = asyncio.get_running_loop().create_task(self._renew(), name="qabot-update-leases")

    async def stop(self) -> None:
        """Stop renewing (the bot is stopping; what it still holds lapses within a lease)."""
        if self._renewing is not None:
            self._renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewing
            self._renewing = None

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.renew_every)
            if self.held:
                try:
                    await self.state.renew_updates(sorted(self.held), self.holder, self.lease)
                except StateUnavailable as err:
                    self._warn(err)

    def _warn(self, err: StateUnavailable) -> None:
        if not self._down:
            where = self.state.where
            log.warning("Bot state %s unusable (%s); updates are handled without the retry check", where, err)
        self._down = True

    def _works(self) -> None:
        if self._down:
            log.info("Bot state %s works again", self.state.where)
        self._down = False


__all__ = ["LEASE", "POLL", "RENEW_EVERY", "UpdateClaims", "replica_name"]
