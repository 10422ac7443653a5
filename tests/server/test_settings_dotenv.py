"""Settings from a dotenv file: precedence over defaults and the environment, and its syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyoco_server.domain.errors import SettingsError
from pyoco_server.domain.settings import Settings

NO_DOTENV = {"PYOCO_LOAD_DOTENV": "0"}


def write_env_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_non_empty_process_value_wins_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_env_file(tmp_path / ".env", "PYOCO_DEFAULT_TAG=from_file\n")

    settings = Settings.from_env({"PYOCO_DEFAULT_TAG": "from_env"})

    assert settings.default_tag == "from_env"


def test_file_value_wins_over_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_env_file(tmp_path / ".env", "PYOCO_DEFAULT_TAG=from_file\nPYOCO_NATS_REPLICAS=3\n")

    settings = Settings.from_env({})

    assert settings.default_tag == "from_file"
    assert settings.js_replicas == 3


@pytest.mark.parametrize("empty", ["", "   "])
def test_empty_process_value_counts_as_unset(
    empty: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_env_file(tmp_path / ".env", "PYOCO_DEFAULT_TAG=from_file\n")

    with_file = Settings.from_env({"PYOCO_DEFAULT_TAG": empty})
    without_file = Settings.from_env({**NO_DOTENV, "PYOCO_DEFAULT_TAG": empty})

    assert with_file.default_tag == "from_file"
    assert without_file.default_tag == "default"


def test_empty_file_value_counts_as_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_env_file(tmp_path / ".env", "PYOCO_DEFAULT_TAG=\nPYOCO_LOG_FORMAT\n")

    settings = Settings.from_env({})

    assert settings.default_tag == "default"
    assert settings.log_format == "text"


@pytest.mark.parametrize("flag", ["0", "false", "no", "OFF"])
def test_load_dotenv_false_disables_the_file(
    flag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_env_file(tmp_path / ".env", "PYOCO_DEFAULT_TAG=from_file\n")

    settings = Settings.from_env({"PYOCO_LOAD_DOTENV": flag})

    assert settings.default_tag == "default"


@pytest.mark.parametrize("flag", ["1", "true", ""])
def test_load_dotenv_true_or_unset_loads_the_file(
    flag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_env_file(tmp_path / ".env", "PYOCO_DEFAULT_TAG=from_file\n")

    settings = Settings.from_env({"PYOCO_LOAD_DOTENV": flag})

    assert settings.default_tag == "from_file"


def test_invalid_load_dotenv_flag_is_an_error() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"PYOCO_LOAD_DOTENV": "sometimes"})

    assert info.value.variable == "PYOCO_LOAD_DOTENV"
    assert "0/false/no/off" in str(info.value)


def test_env_file_picks_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_env_file(tmp_path / ".env", "PYOCO_DEFAULT_TAG=from_dot_env\n")
    (tmp_path / "conf").mkdir()
    custom = write_env_file(tmp_path / "conf" / "prod.env", "PYOCO_DEFAULT_TAG=from_custom\n")

    by_absolute_path = Settings.from_env({"PYOCO_ENV_FILE": str(custom)})
    by_relative_path = Settings.from_env({"PYOCO_ENV_FILE": "conf/prod.env"})

    assert by_absolute_path.default_tag == "from_custom"
    assert by_relative_path.default_tag == "from_custom"


def test_missing_env_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_env_file(tmp_path / ".env", "PYOCO_DEFAULT_TAG=from_dot_env\n")

    settings = Settings.from_env({"PYOCO_ENV_FILE": str(tmp_path / "absent.env")})

    assert settings.default_tag == "default"


def test_env_file_syntax_quotes_export_and_comments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_env_file(
        tmp_path / ".env",
        "# deployment settings\n"
        "export PYOCO_DEFAULT_TAG=exported\n"
        'PYOCO_LOG_LEVEL="warning"\n'
        "PYOCO_WORK_STREAM='SINGLE_QUOTED'\n"
        "PYOCO_DLQ_STREAM=plain # trailing comment\n"
        "\n"
        "#PYOCO_LOG_FORMAT=json\n",
    )

    settings = Settings.from_env({})

    assert settings.default_tag == "exported"
    assert settings.log_level == "warning"
    assert settings.work_stream == "SINGLE_QUOTED"
    assert settings.dlq_stream == "plain"
    assert settings.log_format == "text"


def test_invalid_value_in_the_file_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_env_file(tmp_path / ".env", "PYOCO_CONSUMER_ACK_WAIT_SEC=soon\n")

    with pytest.raises(SettingsError) as info:
        Settings.from_env({})

    assert info.value.variable == "PYOCO_CONSUMER_ACK_WAIT_SEC"
    assert info.value.value == "soon"
