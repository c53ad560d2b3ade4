"""Optional cross-encoder re-ranking of candidate sentences (``QABOT_RERANKER_MODEL``; off by default).

A cross-encoder reads the question and a sentence together, which judges "does this answer it" better than
comparing two separately embedded vectors, at the price of one model call per candidate. None installs offline
here, so it is off by default; any sentence-transformers ``CrossEncoder`` name or local path can be set.
Like ``embed.py``, this module imports sentence-transformers lazily, and a hub name must be cached (checked when
the Answerer starts) unless ``QABOT_ALLOW_DOWNLOADS`` is on.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

from qabot.errors import ConfigError


class Reranker:
    """Scores (question, passage) pairs with a cross-encoder, loaded on first use."""

    def __init__(self, model: str, *, device: str = "cpu", allow_downloads: bool = False) -> None:
        from qabot.embed import local_model

        self.model_name = model
        self.allow_downloads = allow_downloads
        # Resolved at start: a hub name that is not cached fails here, not with a download on the first question.
        self.path = local_model(model, allow_downloads=allow_downloads, setting="QABOT_RERANKER_MODEL")
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import CrossEncoder  # heavy: imported only when re-ranking is on

                try:
                    self._model = CrossEncoder(
                        self.path, device=self.device, local_files_only=not self.allow_downloads
                    )
                except OSError as err:
                    raise ConfigError(
                        f"cannot load re-ranker {self.model_name!r} (offline?): {str(err).splitlines()[0]}; "
                        "unset QABOT_RERANKER_MODEL to answer without it"
                    ) from err
            return self._model

    def score_pairs(self, question: str, passages: Sequence[str]) -> list[float]:
        """Relevance of each passage to the question, squashed to 0..1 (higher is better)."""
        if not passages:
            return []
        raw = self._load().predict([(question, p) for p in passages], show_progress_bar=False)
        out = []
        for value in (float(x) for x in (raw.tolist() if hasattr(raw, "tolist") else raw)):
            out.append(value if 0.0 <= value <= 1.0 else 1.0 / (1.0 + math.exp(-value)))
        return out


__all__ = ["Reranker"]
