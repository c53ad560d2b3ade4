"""The dependency rule, read from the source: heavy and front-end imports stay where they belong.

Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "qabot"
FRONT_ENDS = {"qabot.bot", "qabot.repl", "qabot.cli"}  # a package counts with everything under it
# Helpers of `qabot` commands that may reach the front-ends (none does today); every other module is pipeline.
COMMAND_HELPERS = {"qabot.doctor"}
NAMED_PIPELINE = {
    f"qabot.{name}"
    for name in (
        "sources sources.files sources.html sources.fetch sources.feeds chunking embed store retrieve answer ingest "
        "models errors config evaluate render render.common render.text render.telegram"
    ).split()
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, tree: ast.Module | None = None) -> set[str]:
    """Every module ``path`` imports, anywhere in the file; ``from qabot import x`` counts as ``qabot.x``."""
    tree = tree or ast.parse(path.read_text("utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module_name(path).split(".")
                base = base[: len(base) - node.level + (path.name == "__init__.py")]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def modules() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def importers_of(top: str) -> set[str]:
    """Modules of the package that import ``top`` or anything under it."""
    return {mod for mod, imported in modules().items() if any(i == top or i.startswith(top + ".") for i in imported)}


def under(mod: str, tops: set[str]) -> bool:
    """Whether ``mod`` is one of ``tops`` or a module inside one of them."""
    return any(mod == top or mod.startswith(top + ".") for top in tops)


def pipeline() -> set[str]:
    """Every module that is neither a front-end nor a command helper: new modules are covered without listing."""
    return {mod for mod in modules() if not under(mod, FRONT_ENDS | COMMAND_HELPERS)}


def test_the_package_is_found() -> None:
    found = set(modules())
    assert found >= NAMED_PIPELINE, f"pipeline modules missing: {NAMED_PIPELINE - found}"
    assert found >= FRONT_ENDS
    assert {"qabot.bot.app", "qabot.bot.jobs", "qabot.bot.guard"} <= found
    assert pipeline() >= NAMED_PIPELINE


# The bot's Telegram adapters: the application, its handlers (updates, commands, questions, buttons, inline mode,
# group joins) and the sending of replies. The rules (address, guard, jobs, conversations, feedback) and the
# renderers stay Telegram-free, so they test without it.
TELEGRAM_ADAPTERS = {
    f"qabot.bot.{name}" for name in "app updates commands questions buttons sending inline members".split()
}


def test_only_the_bots_telegram_adapters_import_telegram() -> None:
    assert importers_of("telegram") <= TELEGRAM_ADAPTERS
    assert "qabot.bot.app" in importers_of("telegram")


# The modules that run models: the embedder, its ONNX export, and the optional re-ranker.
MODEL_MODULES = {"qabot.embed.embedder", "qabot.embed.onnx_backend", "qabot.rerank"}


@pytest.mark.parametrize("heavy", ["torch", "sentence_transformers", "transformers"])
def test_only_the_model_modules_import_the_model_libraries(heavy: str) -> None:
    assert importers_of(heavy) <= MODEL_MODULES


def test_lazy_imports_inside_functions_are_seen() -> None:
    # embed/embedder.py imports sentence_transformers inside a method; the rule must see it there.
    assert "qabot.embed.embedder" in importers_of("sentence_transformers")


def test_only_the_bots_redis_state_imports_redis() -> None:
    """Redis is one backend of the bot's state (``qabot.bot.state``): nothing else, the pipeline least, knows it."""
    found = importers_of("redis")
    assert found == {"qabot.bot.state.redis_store", "qabot.bot.state.redis_answers"}


def test_only_the_store_imports_faiss() -> None:
    found = importers_of("faiss")
    assert found
    assert all(under(mod, {"qabot.store"}) for mod in found), found


def test_only_the_milvus_store_imports_pymilvus() -> None:
    found = importers_of("pymilvus") | importers_of("milvus_lite")
    assert found == {"qabot.store.milvus.connection"}, found


def test_pipeline_never_imports_a_front_end() -> None:
    found = modules()
    offenders = {mod: sorted(i for i in found[mod] if under(i, FRONT_ENDS)) for mod in pipeline()}
    assert {mod: bad for mod, bad in offenders.items() if bad} == {}


def test_bot_and_repl_do_not_import_each_other_or_the_cli() -> None:
    found = modules()
    for mod in (m for m in found if under(m, {"qabot.bot"})):
        assert not any(under(i, {"qabot.repl", "qabot.cli"}) for i in found[mod]), mod
    assert not any(under(i, {"qabot.bot", "qabot.cli"}) for i in found["qabot.repl"])


def test_bot_handlers_reach_their_state_through_the_typed_context() -> None:
    """``context.state`` (a typed BotState), never string keys into PTB's ``bot_data`` dict."""
    uses = [
        f"{module_name(path)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "bot_data"
    ]
    assert uses == []


def test_benchmarks_are_never_imported_by_the_package() -> None:
    assert importers_of("benchmarks") == set()


def test_importing_qabot_and_its_cli_loads_no_heavy_library() -> None:
    """`qabot --help` stays instant: torch, the model library and telegram load only when used."""
    code = (
        "import sys, qabot, qabot.cli, qabot.answer, qabot.ingest, qabot.repl, qabot.render.text\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'telegram') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_feed_list_and_the_folder_check_load_no_faiss() -> None:
    """`qabot feeds add/list` check the index folder and edit feeds.json: neither needs faiss or numpy, which
    ``qabot.store`` would load if it imported its parts eagerly."""
    code = (
        "import sys, qabot.cli, qabot.store.layout, qabot.sources.feeds\n"
        "heavy = [m for m in ('faiss', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("QABOT_")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr


def package_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports when it runs: ``if TYPE_CHECKING:`` blocks never run, and
    ``from pkg import submodule`` depends on the submodule (and the package's ``__init__`` only if it names more)."""
    paths = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for mod, path in paths.items():
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
                node.body = [ast.Pass()]
        deps: set[str] = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            single = ast.Module(body=[node], type_ignores=[])
            found = imports_of(path, single)
            if isinstance(node, ast.ImportFrom):
                named = {i for i in found if i.rsplit(".", 1)[-1] in {a.name for a in node.names}}
                if named and named <= set(paths):  # every name is a submodule: the package itself is not needed
                    found = named
            deps |= {i for i in found if i in paths and i != mod}
        graph[mod] = deps
    return graph


def test_imports_have_no_cycles() -> None:
    graph = package_graph()
    done: set[str] = set()

    def visit(mod: str, trail: list[str]) -> None:
        if mod in trail:
            cycle = [*trail[trail.index(mod) :], mod]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if mod in done:
            return
        for dep in sorted(graph[mod]):
            visit(dep, [*trail, mod])
        done.add(mod)

    for mod in sorted(graph):
        visit(mod, [])


# Layers from the bottom; a module may import its own layer or any below it, never one above.
LAYERS = [
    {"qabot.errors", "qabot.models", "qabot.text", "qabot.dates", "qabot.stories", "qabot"},
    {"qabot.config", "qabot.redact"},
    {"qabot.sources", "qabot.chunking", "qabot.embed", "qabot.store"},
    {
        "qabot.ingest",
        "qabot.stories.grouping",
        "qabot.retrieve",
        "qabot.rerank",
        "qabot.claimcheck",
        "qabot.synthesis",
        "qabot.evaluate",
    },
    {"qabot.answer", "qabot.render", "qabot.repair", "qabot.evaluate.suite"},
    {"qabot.repl", "qabot.bot", "qabot.doctor", "qabot.cli"},
]


def layer_of(mod: str) -> int:
    best = [(len(top), n) for n, tops in enumerate(LAYERS) for top in tops if under(mod, {top})]
    assert best, f"{mod} is in no layer of tests/test_layers.py: add it where it belongs"
    return max(best)[1]


def test_imports_point_down() -> None:
    upward = {
        (mod, dep)
        for mod, deps in package_graph().items()
        for dep in deps
        if layer_of(dep) > layer_of(mod) and mod != "qabot"
    }
    assert upward == set()


# The README's design section: where each thing lives, as a tree.
README = PACKAGE.parent / "README.md"
# A module named on its own, or under a sub-package of the entry's package (bot: state/local.py); benchmarks/x.py
# is no module of the package, and is left out.
_FILE = re.compile(r"(?<![\w/.`])((?:[a-z_0-9]+/)?)([a-z_0-9]+\.py)\b")


def readme_tree() -> set[str]:
    """The files and packages the README's "Where each thing lives" block names, as paths under qabot/."""
    text = README.read_text("utf-8")
    block = text.split("Where each thing lives", 1)[1].split("```", 2)[1]
    named: set[str] = set()
    package = ""
    for line in block.splitlines()[2:]:  # after the opening fence's newline and "qabot/"
        entry = line[2:] if line.startswith("  ") and not line.startswith("   ") else ""
        if entry:  # a line of the top level: a module, or a package whose modules follow
            head = entry.split()[0]
            package = head if head.endswith("/") else ""
            if package:
                named.add(package)
        for sub, name in _FILE.findall(line):  # continuation lines stay in their package
            if not sub or (PACKAGE / package / sub).is_dir():
                named.update({package + sub + name, package + sub} if sub else {package + name})
    return named


def package_tree() -> set[str]:
    """Every module of the package as a path under qabot/; a sub-package as "name/" (its __init__ with it)."""
    found = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")}
    packages = {name.rsplit("/", 1)[0] + "/" for name in found if name.endswith("/__init__.py")}
    return {name for name in found if not name.endswith("/__init__.py")} | packages


def test_the_readme_tree_names_every_module_and_none_that_is_gone() -> None:
    """A newcomer answers "where does X live?" from the README's tree: it must be the package, exactly."""
    listed = readme_tree() - {"samples/"}  # data, not a module
    assert (PACKAGE / "samples").is_dir()
    actual = package_tree()
    assert {"missing from the README": sorted(actual - listed), "stale in the README": sorted(listed - actual)} == {
        "missing from the README": [],
        "stale in the README": [],
    }


# Small SQLite files of the bot's own (feedback, conversations; the local state only catches their errors).
OWN_SQLITE = {"qabot.bot.feedback", "qabot.bot.conversations", "qabot.bot.state.local"}
_SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|PRAGMA|BEGIN|VACUUM|REPLACE)\s")


def sql_strings(path: Path) -> list[str]:
    """String literals in ``path`` that are SQL statements (docstrings start with words, not a statement)."""
    return [
        f"{module_name(path)}:{node.lineno}"
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.match(node.value)
    ]


def test_only_the_store_knows_the_index_schema() -> None:
    """No sqlite3 and no SQL outside qabot/store/ (but the bot's own small files): the schema has one owner, and
    errors are the store's to classify, never a front-end matching sqlite3's message strings."""
    outside = {mod for mod in modules() if not under(mod, {"qabot.store"} | OWN_SQLITE)}
    assert importers_of("sqlite3") & outside == set()
    paths = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    assert [hit for mod in sorted(outside) for hit in sql_strings(paths[mod])] == []
    assert sql_strings(PACKAGE / "store" / "schema.py")  # the rule sees SQL where it is


def test_no_module_finds_another_through_sys_modules() -> None:
    """A dependency is an import the layer rules can see, never a look-up in ``sys.modules``."""
    uses = [
        f"{module_name(path)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "modules" and getattr(node.value, "id", None) == "sys"
    ]
    assert uses == []
