"""Settings and .env.example stay in step; environment and .env values parse as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from qabot.config import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"
_VAR = re.compile(r"^(QABOT_[A-Z0-9_]+)=(.*)$")


def example_variables() -> dict[str, tuple[str, str]]:
    """QABOT_* name → (value, the line above it) as written in .env.example."""
    lines = EXAMPLE.read_text("utf-8").splitlines()
    found: dict[str, tuple[str, str]] = {}
    for i, line in enumerate(lines):
        m = _VAR.match(line)
        if m:
            assert m.group(1) not in found, f"{m.group(1)} appears twice in .env.example"
            found[m.group(1)] = (m.group(2), lines[i - 1] if i else "")
    return found


def test_every_setting_is_in_env_example_with_a_comment() -> None:
    documented = example_variables()
    fields = {f"QABOT_{name.upper()}" for name in Settings.model_fields}
    assert sorted(fields - set(documented)) == [], "settings missing from .env.example"
    for name, (_, above) in documented.items():
        assert re.match(r"# \S", above), f"{name} has no comment line above it"


def test_every_env_example_variable_is_a_setting() -> None:
    fields = {f"QABOT_{name.upper()}" for name in Settings.model_fields}
    assert sorted(set(example_variables()) - fields) == [], ".env.example names variables Settings does not have"


def _empty(value: object) -> bool:
    return value is None or value == [] or (isinstance(value, SecretStr) and not value.get_secret_value())


def test_env_example_as_is_gives_the_defaults() -> None:
    """Copying .env.example to .env changes nothing: every value written there is the default."""
    from_example = Settings(_env_file=EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    for name in Settings.model_fields:
        mine, default = getattr(from_example, name), getattr(defaults, name)
        assert mine == default or (_empty(mine) and _empty(default)), f"{name}: {mine!r} != default {default!r}"


def test_id_lists_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QABOT_ADMIN_IDS", "12345, 67890,-1001234567890")
    monkeypatch.setenv("QABOT_ALLOWED_CHATS", "-100987")
    monkeypatch.setenv("QABOT_ALLOWED_USERS", "")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.admin_ids == [12345, 67890, -1001234567890]
    assert s.allowed_chats == [-100987]
    assert s.allowed_users == []


def test_id_lists_from_a_dotenv_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("QABOT_ALLOWED_USERS=1,2,3\nQABOT_ADMIN_IDS=7\n", encoding="utf-8")
    s = Settings(_env_file=env)  # type: ignore[call-arg]
    assert s.allowed_users == [1, 2, 3]
    assert s.admin_ids == [7]


def test_id_list_with_a_non_number_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QABOT_ADMIN_IDS", "12345,alice")
    with pytest.raises(ValidationError, match="admin_ids"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_unknown_variable_in_dotenv_is_an_error(tmp_path: Path) -> None:
    """A misspelt setting in .env fails loudly instead of being silently ignored."""
    env = tmp_path / ".env"
    env.write_text("QABOT_MAX_ARTICLE=5\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"(?i)qabot_max_article"):
        Settings(_env_file=env)  # type: ignore[call-arg]


def test_environment_overrides_and_validates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QABOT_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("QABOT_MIN_CONFIDENCE", "0.6")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.index_dir == tmp_path / "idx"
    assert s.min_confidence == 0.6
    monkeypatch.setenv("QABOT_MAX_ARTICLES", "0")
    with pytest.raises(ValidationError, match="max_articles"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_secrets_do_not_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QABOT_TELEGRAM_TOKEN", "123456:SECRET-token-value")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert "SECRET-token-value" not in repr(s)
    assert s.telegram_token is not None
    assert s.telegram_token.get_secret_value() == "123456:SECRET-token-value"


@pytest.mark.parametrize("where", ["env", "dotenv"])
def test_the_old_min_score_setting_says_what_replaced_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str
) -> None:
    env_file = tmp_path / ".env"
    if where == "env":
        monkeypatch.setenv("QABOT_MIN_SCORE", "0.58")
        env_file.write_text("", encoding="utf-8")
    else:
        env_file.write_text("QABOT_MIN_SCORE=0.58\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="replaced by QABOT_MIN_CONFIDENCE"):
        Settings(_env_file=env_file)  # type: ignore[call-arg]
