"""Settings from the environment and the config file, and the command line's answers to mistakes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import config, i18n
from bot.config import ConfigError


def test_no_file_needed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = config.load({"TELEGRAM_BOT_TOKEN": "1:abc"})
    assert settings.token == "1:abc"
    assert settings.api_url == "https://api.telegram.org/bot"
    assert settings.database_url == "sqlite+aiosqlite:///helpdesk.db"
    assert settings.timezone == ZoneInfo("Europe/Rome")
    assert settings.languages == i18n.KNOWN_LANGUAGES  # all fourteen
    assert settings.default_language == "it"


def test_environment_and_file(tmp_path: Path) -> None:
    path = tmp_path / "desk.toml"
    path.write_text(
        'timezone = "Europe/London"\nlanguages = ["en", "ar"]\ndefault_language = "ar"\n'
        "organisers = [42, 43]\n"
    )
    settings = config.load(
        {
            "HELPDESK_CONFIG": str(path),
            "TELEGRAM_API_URL": "http://127.0.0.1:9/bot",
            "DATABASE_URL": "postgresql+asyncpg://db/helpdesk",
        }
    )
    assert settings.timezone == ZoneInfo("Europe/London")
    assert settings.languages == ("en", "ar")
    assert settings.default_language == "ar"
    assert settings.organisers == {42, 43}
    assert settings.api_url == "http://127.0.0.1:9/bot"
    assert settings.database_url == "postgresql+asyncpg://db/helpdesk"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("languages = [", "is not valid TOML"),
        ("colour = 'red'", "unknown setting 'colour'"),
        ("timezone = 'Mars/Olympus'", "unknown timezone 'Mars/Olympus'"),
        ("languages = ['it', 'xx']", "unknown language 'xx'"),
        ("languages = []", "languages must be a non-empty list"),
        ("default_language = 'ar'\nlanguages = ['it']", "default_language 'ar' is not one"),
        ("organisers = ['ada']", "organisers must be a list of Telegram user ids"),
    ],
)
def test_a_bad_file_is_named_in_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "helpdesk.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as raised:
        config.load({"HELPDESK_CONFIG": str(path)})
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        config.load({"HELPDESK_CONFIG": str(tmp_path / "nope.toml")})


def helpdesk(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HELPDESK_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_a_token_says_so_in_one_line(tmp_path: Path) -> None:
    result = helpdesk("run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "helpdesk: TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token"
    ]


def test_run_with_a_broken_config_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "helpdesk.toml").write_text("timezone = \n")
    result = helpdesk("run", cwd=tmp_path, TELEGRAM_BOT_TOKEN="1:abc")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "helpdesk.toml is not valid TOML" in result.stderr


def test_db_upgrade_creates_the_default_database_and_can_run_again(tmp_path: Path) -> None:
    for _ in range(2):
        result = helpdesk("db", "upgrade", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "database is up to date" in result.stdout
    assert (tmp_path / "helpdesk.db").exists()


def test_an_unreachable_bot_api_is_named_in_one_line(tmp_path: Path) -> None:
    result = helpdesk(
        "run",
        cwd=tmp_path,
        TELEGRAM_BOT_TOKEN="1:secret-token",
        TELEGRAM_API_URL="http://127.0.0.1:9/bot",
    )
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("helpdesk: cannot reach the Bot API at http://127.0.0.1:9/bot")
    assert "secret-token" not in result.stderr
    assert "Traceback" not in result.stderr


WHATSAPP = {
    "WHATSAPP_PHONE_ID": "100000000000001",
    "WHATSAPP_TOKEN": "EAAG-token",
    "WHATSAPP_APP_SECRET": "app-secret",
    "WHATSAPP_VERIFY_TOKEN": "verify-me",
}


def test_whatsapp_runs_with_its_four_variables_and_its_templates(tmp_path: Path) -> None:
    path = tmp_path / "desk.toml"
    path.write_text(
        "[whatsapp]\nper_second = 250\n"
        '[whatsapp.templates]\nreminder = { it = "promemoria_attivita", ar = "tadhkir" }\n'
    )
    environ = {"HELPDESK_CONFIG": str(path), "WHATSAPP_API_URL": "http://127.0.0.1:9/"}
    whatsapp = config.load(environ | WHATSAPP).whatsapp
    assert whatsapp is not None
    assert (whatsapp.phone_id, whatsapp.app_secret, whatsapp.verify_token) == (
        "100000000000001",
        "app-secret",
        "verify-me",
    )
    assert whatsapp.api_url == "http://127.0.0.1:9" and whatsapp.per_second == 250
    assert whatsapp.template("reminder", "ar", "it") == ("tadhkir", "ar")
    assert whatsapp.template("reminder", "en", "it") == ("promemoria_attivita", "it")
    assert whatsapp.template("broadcast", "it", "it") is None
    # Without its variables, a deployment has no WhatsApp, whatever the file says.
    assert config.load({"HELPDESK_CONFIG": str(path)}).whatsapp is None


@pytest.mark.parametrize(
    ("environ", "toml", "problem"),
    [
        ({k: v for k, v in WHATSAPP.items() if k != "WHATSAPP_APP_SECRET"}, "", "APP_SECRET"),
        (WHATSAPP, "[whatsapp]\nper_second = 0\n", "per_second"),
        (WHATSAPP, "[whatsapp]\nspeed = 3\n", "takes per_second and templates"),
        (WHATSAPP, '[whatsapp.templates]\nthanks = { it = "grazie" }\n', "unknown purpose"),
        (WHATSAPP, '[whatsapp.templates]\nreminder = { it = "Not A Name" }\n', "template names"),
    ],
)
def test_whatsapp_settings_that_cannot_work_stop_the_bot_with_one_line(
    tmp_path: Path, environ: dict[str, str], toml: str, problem: str
) -> None:
    path = tmp_path / "desk.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=problem):
        config.load({"HELPDESK_CONFIG": str(path)} | environ)
