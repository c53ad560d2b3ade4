"""The ONNX Runtime encoder: the bundled model without torch on the query path.

The model is exported from the local sentence-transformers folder once (by ``qabot.embed``, the only torch
importer), optionally quantised here to dynamic int8, and cached under ``cache_root()/onnx/<fingerprint>/``; later
processes load the cached file with onnxruntime and tokenize with the model's own ``tokenizer.json``
(``tokenizers``), so a cold ``qabot ask`` never imports torch. Nothing is downloaded: export and quantisation read
local files only.

Why a user cache rather than the index folder: the file depends on the model alone, so every index on the machine
shares it, an index folder may be read-only or copied elsewhere, and 90 MB of model has no place in index backups.

Quantisation follows sentence-transformers' "avx2" dynamic config (int8 symmetric per-channel weights, uint8
activations, MatMul only). ONNX Runtime's defaults (per-tensor, embeddings quantised too) lose far more accuracy:
mean cosine 0.959 against the torch model instead of 0.992 on news sentences.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qabot.errors import ConfigError

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

# Bump when the export or quantisation recipe changes, so old cached files are not reused.
RECIPE = "bert-mean-int8-v1"
PRECISIONS = ("fp32", "int8")
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")

# export(model_dir, out_path): writes an fp32 ONNX graph of the transformer with INPUT_NAMES in, one
# (batch, tokens, hidden) output; supplied by qabot.embed, which owns torch.
Exporter = Callable[[Path, Path], None]


@dataclass(frozen=True)
class ModelLayout:
    """What the encoder needs to know about a sentence-transformers folder, read without torch."""

    path: Path
    dimension: int
    max_tokens: int


def cache_root(explicit: str | Path | None = None) -> Path:
    """Where qabot caches derived model files: ``explicit``, else ``$XDG_CACHE_HOME/qabot``, else ``~/.cache/qabot``."""
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qabot"


def read_layout(model_dir: str | Path) -> ModelLayout | None:
    """The layout of a local Transformer → mean-pooling model folder, or None if this encoder cannot run it."""
    path = Path(model_dir)
    try:
        modules = json.loads((path / "modules.json").read_text("utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith(".Pooling"))
        pooling = json.loads((path / pooling_dir / "config.json").read_text("utf-8"))
        config = json.loads((path / "config.json").read_text("utf-8"))
    except (OSError, ValueError, KeyError, StopIteration):
        return None
    other_pooling = any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
    )
    if kinds[:2] != ["Transformer", "Pooling"] or not pooling.get("pooling_mode_mean_tokens") or other_pooling:
        return None
    if set(kinds[2:]) - {"Normalize"} or not (path / "tokenizer.json").exists() or config.get("model_type") != "bert":
        return None
    max_tokens = int(config.get("max_position_embeddings", 512))
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        max_tokens = int(json.loads((path / "sentence_bert_config.json").read_text("utf-8"))["max_seq_length"])
    dim = int(pooling.get("word_embedding_dimension") or config["hidden_size"])
    return ModelLayout(path=path, dimension=dim, max_tokens=max_tokens)


def fingerprint(layout: ModelLayout) -> str:
    """A short id of the model's content (config, tokenizer, head and tail of the weights) and of the recipe.

    Reading the whole weights file would cost a fraction of a second on every start; size plus the first and
    last megabyte tell two models apart just as well.
    """
    h = hashlib.sha256(RECIPE.encode())
    for name in ("config.json", "tokenizer.json", "modules.json"):
        h.update((layout.path / name).read_bytes())
    for weights in sorted(layout.path.glob("*.safetensors")) + sorted(layout.path.glob("pytorch_model*.bin")):
        size = weights.stat().st_size
        h.update(f"{weights.name}:{size}".encode())
        with open(weights, "rb") as fh:
            h.update(fh.read(1 << 20))
            fh.seek(max(0, size - (1 << 20)))
            h.update(fh.read(1 << 20))
    return h.hexdigest()[:16]


def quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic int8 quantisation of an fp32 graph (see the module docstring for the choice of options)."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as err:
        raise ConfigError("exporting the int8 model needs the `onnx` package: pip install onnx") from err

    with _quiet_root_logger():
        quantize_dynamic(src, dst, op_types_to_quantize=["MatMul"], per_channel=True, weight_type=QuantType.QInt8)


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    # quantize_dynamic prints a pre-processing hint with logging.warning(), which would also call basicConfig()
    # on an unconfigured root logger: a library must not configure logging, so give root a handler meanwhile.
    root = logging.getLogger()
    handler = logging.NullHandler()
    root.addHandler(handler)
    was_disabled, root.disabled = root.disabled, True
    try:
        yield
    finally:
        root.disabled = was_disabled
        root.removeHandler(handler)


def ensure_model(layout: ModelLayout, cache_dir: Path, export: Exporter, *, precision: str = "int8") -> Path:
    """The cached ``fp32`` or ``int8`` model of ``layout``, exported (and quantised) first if not there yet.

    Only when it is not there yet, a notice is logged (a WARNING record with ``notice=True``) that the model is being
    prepared, so the one slow first start is announced and no later start is.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}")
    folder = cache_dir / "onnx" / fingerprint(layout)
    fp32, final = folder / "model-fp32.onnx", folder / f"model-{precision}.onnx"
    if final.exists():
        return final
    folder.mkdir(parents=True, exist_ok=True)
    # A notice for the person waiting (front-ends show these plainly): 15 s of silence reads as a hang.
    log.warning("Preparing the embedding model (once; about 15 s)…", extra={"notice": True})
    log.info("exporting %s to ONNX %s under %s", layout.path.name, precision, folder)
    work = Path(tempfile.mkdtemp(dir=folder, prefix=".export-"))
    try:
        if not fp32.exists():
            export(layout.path, work / fp32.name)
            # Another process may have finished the same export meanwhile: the files are equal, the last one wins.
            os.replace(work / fp32.name, fp32)
        if precision == "int8":
            quantize_int8(fp32, work / final.name)
            os.replace(work / final.name, final)
        (folder / "source.json").write_text(json.dumps({"model": str(layout.path), "recipe": RECIPE}, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


class OnnxEncoder:
    """Mean-pooled, L2-normalised sentence vectors from an ONNX transformer and its ``tokenizer.json``.

    Thread-safe: ONNX Runtime sessions and ``tokenizers`` encoders may be called from several threads at once.
    """

    def __init__(self, model_file: Path, layout: ModelLayout, *, batch_size: int = 32, threads: int = 0) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.layout = layout
        self.dimension = layout.dimension
        self.max_tokens = layout.max_tokens
        self.batch_size = batch_size
        self._tok = Tokenizer.from_file(str(layout.path / "tokenizer.json"))
        self._tok.no_padding()
        self._tok.enable_truncation(max_length=layout.max_tokens)
        self._counter = Tokenizer.from_file(str(layout.path / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        # Idle worker threads spin for a while by default; on a 2-core box that steals the core FAISS, SQLite and
        # the bot's event loop need between model calls.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(model_file), opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    @classmethod
    def load(
        cls,
        layout: ModelLayout,
        cache_dir: Path,
        export: Exporter,
        *,
        precision: str = "int8",
        batch_size: int = 32,
        threads: int = 0,
    ) -> OnnxEncoder:
        """An encoder for ``layout``, exporting the model into ``cache_dir`` on first use."""
        model = ensure_model(layout, cache_dir, export, precision=precision)
        return cls(model, layout, batch_size=batch_size, threads=threads)

    def count_tokens(self, text: str) -> int:
        """Model tokens in ``text`` without the special tokens and without truncation."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> NDArray[np.float32]:
        """Vectors of ``texts`` in order; batches are formed by token length so little padding is computed.

        ``progress(done)`` after each batch, with the number of texts done so far.
        """
        out = np.zeros((len(texts), self.layout.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tok.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._run([encodings[i].ids for i in idx])
            if progress:
                progress(start + len(idx))
        return out

    def _run(self, ids: list[list[int]]) -> NDArray[np.float32]:
        width = max(len(x) for x in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feed: dict[str, Any] = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(mask)}
        hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


__all__ = [
    "INPUT_NAMES",
    "PRECISIONS",
    "RECIPE",
    "ModelLayout",
    "OnnxEncoder",
    "cache_root",
    "ensure_model",
    "read_layout",
]
