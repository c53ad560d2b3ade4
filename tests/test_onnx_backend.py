"""The ONNX backends: exported offline from the bundled model, faithful to torch, and torch-free once cached.

One export per session (about 15-30 s on 2 cores) into a temporary cache folder; the torch reference is the same
bundled model through sentence-transformers.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from qabot.chunking import split_sentences
from qabot.cli import main
from qabot.cli.commands import samples_dir
from qabot.config import Settings
from qabot.embed import Embedder, resolve_model_path
from qabot.errors import ConfigError
from qabot.models import Article
from qabot.sources.files import load_paths

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class FirstRuns:
    """What a user saw on stderr the first time qabot ran on this machine (the export), and the next time."""

    cache: Path
    first_stderr: str
    second_stderr: str
    exported: list[str]  # the model files in the cache after those runs


def qabot_stderr(*args: str) -> str:
    """``qabot ARGS`` in-process; its stderr (the CLI's notices look up sys.stderr as they print)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(list(args)) == 0, err.getvalue()
    return err.getvalue()


@pytest.fixture(scope="session")
def first_runs(tmp_path_factory: pytest.TempPathFactory) -> FirstRuns:
    """``qabot ingest --samples`` with an empty model cache (the real export runs), then ``qabot ask``."""
    cache, index = tmp_path_factory.mktemp("onnx-cache"), tmp_path_factory.mktemp("first-index")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("QABOT_EMBED_CACHE_DIR", str(cache))
        env.setenv("QABOT_EMBED_BACKEND", "onnx")
        first = qabot_stderr("--index", str(index), "ingest", "--samples")
        second = qabot_stderr("--index", str(index), "ask", "When did the harbour tram line open?")
    return FirstRuns(cache, first, second, sorted(p.name for p in cache.rglob("*.onnx")))


@pytest.fixture(scope="session")
def onnx_cache(first_runs: FirstRuns) -> Path:
    return first_runs.cache  # holds the fp32 graph the CLI's first run exported


@pytest.fixture(scope="session")
def onnx_embedder(onnx_cache: Path) -> Embedder:
    e = Embedder(backend="onnx-int8", cache_dir=onnx_cache)
    assert e.backend == "onnx-int8"
    return e


@pytest.fixture(scope="session")
def fp32_embedder(onnx_cache: Path, onnx_embedder: Embedder) -> Embedder:
    e = Embedder(backend="onnx", cache_dir=onnx_cache)  # reuses the fp32 graph the CLI's first run exported
    assert e.backend == "onnx"
    return e


@pytest.fixture(scope="session")
def torch_embedder() -> Embedder:
    e = Embedder(backend="torch")
    assert e.backend == "torch"
    return e


@pytest.fixture(scope="session")
def sentences() -> list[str]:
    """A few hundred real texts from the bundled news samples: titles, sentences, and three-sentence passages."""
    found: list[str] = []
    for item in load_paths([samples_dir()]):
        if isinstance(item, Article):
            spans = split_sentences(item.text)
            found.append(item.title)
            found.extend(item.text[s.start : s.end] for s in spans)
            found.extend(item.text[a.start : c.end] for a, c in zip(spans, spans[2:], strict=False))
    assert len(found) >= 250
    return found


def test_the_first_run_says_once_that_it_prepares_the_model_and_later_runs_do_not(first_runs: FirstRuns) -> None:
    assert first_runs.first_stderr.splitlines()[0] == "Preparing the embedding model (once; about 15 s)…"
    assert first_runs.first_stderr.count("Preparing") == 1
    assert "Preparing" not in first_runs.second_stderr  # the cached export is reused: nothing to announce
    assert first_runs.exported == ["model-fp32.onnx"]


def test_int8_vectors_match_the_torch_model(
    onnx_embedder: Embedder, torch_embedder: Embedder, sentences: list[str]
) -> None:
    fast = onnx_embedder.embed_texts(sentences)
    ref = torch_embedder.embed_texts(sentences)
    assert fast.shape == ref.shape == (len(sentences), 384)
    assert fast.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cosine = (fast * ref).sum(axis=1)
    assert cosine.mean() >= 0.98, cosine.mean()
    assert cosine.min() >= 0.95, (cosine.min(), sentences[int(cosine.argmin())])
    # What retrieval notices: each sentence's nearest other sentence is mostly the same one.
    np.fill_diagonal(sims_fast := fast @ fast.T, -1)
    np.fill_diagonal(sims_ref := ref @ ref.T, -1)
    agree = (sims_fast.argmax(axis=1) == sims_ref.argmax(axis=1)).mean()
    assert agree >= 0.9, agree


def test_fp32_vectors_are_the_torch_vectors(
    fp32_embedder: Embedder, torch_embedder: Embedder, sentences: list[str]
) -> None:
    cosine = (fp32_embedder.embed_texts(sentences) * torch_embedder.embed_texts(sentences)).sum(axis=1)
    assert cosine.min() >= 0.9999, (cosine.min(), sentences[int(cosine.argmin())])


def test_a_text_gets_nearly_the_same_vector_alone_and_padded_in_a_batch(
    onnx_embedder: Embedder, sentences: list[str]
) -> None:
    long_text = " ".join(sentences[:40])  # past the model's 256-token limit: truncated, and pads the others
    short = [sentences[1], "Rates?", sentences[5]]
    batch = onnx_embedder.embed_texts([short[0], long_text, short[1], short[2]])
    alone = np.stack([onnx_embedder.embed_query(t) for t in short])
    # Dynamic int8 scales activations per batch, so batch-mates shift a vector slightly, but padding must not.
    cosine = (batch[[0, 2, 3]] * alone).sum(axis=1)
    assert cosine.min() >= 0.97, cosine  # a broken attention mask gives far less
    assert onnx_embedder.embed_texts([]).shape == (0, 384)


def test_token_counts_are_the_models_own(onnx_embedder: Embedder, sentences: list[str]) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(resolve_model_path("bundled"))
    texts = [*sentences[:100], " ".join(sentences)]  # and one far past the model limit: counts never truncate
    expected = [len(tok(t, add_special_tokens=False, truncation=False)["input_ids"]) for t in texts]
    assert [onnx_embedder.count_tokens(t) for t in texts] == expected
    assert expected[-1] > onnx_embedder.max_tokens == 256


def test_a_new_process_reuses_the_cached_model_without_torch(
    onnx_embedder: Embedder, fp32_embedder: Embedder, onnx_cache: Path
) -> None:
    exported = {p: p.stat().st_mtime_ns for p in onnx_cache.rglob("*.onnx")}
    assert sorted(p.name for p in exported) == ["model-fp32.onnx", "model-int8.onnx"]
    code = (
        "import sys\n"
        "from qabot.embed import Embedder\n"
        "for backend in ('onnx', 'onnx-int8'):\n"
        f"    e = Embedder(backend=backend, cache_dir={str(onnx_cache)!r})\n"
        "    print(len(e.embed_query('When did the central bank cut rates?')), e.backend)\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HF_HUB_OFFLINE": "1"},
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["384", "onnx", "384", "onnx-int8"]
    assert {p: p.stat().st_mtime_ns for p in onnx_cache.rglob("*.onnx")} == exported


def test_settings_choose_the_backend(onnx_cache: Path, onnx_embedder: Embedder) -> None:
    auto = Embedder.from_settings(Settings(_env_file=None, embed_cache_dir=str(onnx_cache)))  # type: ignore[call-arg]
    assert auto.backend == "onnx"  # the faithful fp32 graph; int8 is opt-in
    forced = Embedder.from_settings(Settings(_env_file=None, embed_backend="torch"))  # type: ignore[call-arg]
    assert forced.requested_backend == "torch"
    with pytest.raises(ConfigError, match="unknown embedding backend"):
        Embedder(backend="tensorflow")


def test_an_unwritable_cache_falls_back_to_torch_or_says_what_to_do(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    assert Embedder(backend="auto", cache_dir=blocked).backend == "torch"
    with pytest.raises(ConfigError, match="QABOT_EMBED_CACHE_DIR is writable"):
        Embedder(backend="onnx-int8", cache_dir=blocked).embed_query("x")
