"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker engine here)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def signoff_env(compose: dict[str, Any], service: str) -> dict[str, str]:
    env = compose["services"][service]["environment"]
    # ${VAR:-default} / ${VAR:?message} are filled in by compose; stand in a value.
    return {k: re.sub(r"\$\{[^}]*\}", "filled-by-compose", str(v)) for k, v in env.items()}


def test_compose_runs_the_five_services_of_the_design(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgresql", "temporal", "temporal-ui", "signoff-worker", "signoff-web"}
    assert compose["services"]["signoff-worker"]["command"] == ["worker"]
    assert compose["services"]["signoff-web"]["command"][0] == "web"


def test_worker_and_web_share_temporal_database_and_signing_key(compose: dict[str, Any]) -> None:
    worker, web = signoff_env(compose, "signoff-worker"), signoff_env(compose, "signoff-web")
    for key in (
        "SIGNOFF_TEMPORAL_ADDRESS",
        "SIGNOFF_DATABASE_URL",
        "SIGNOFF_SECRET_KEY",
        "SIGNOFF_TEMPORAL_TASK_QUEUE",
    ):
        assert worker[key] == web[key], key
    assert worker["SIGNOFF_TEMPORAL_ADDRESS"].split(":")[0] in compose["services"]
    assert "postgresql+psycopg://" in worker["SIGNOFF_DATABASE_URL"]
    assert ":?" in compose["services"]["signoff-web"]["environment"]["SIGNOFF_SECRET_KEY"], "no default secret"


def test_every_signoff_variable_is_a_setting(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in signoff_env(compose, "signoff-web").items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.temporal.address == "temporal:7233"
    assert settings.database_url and settings.database_url.startswith("postgresql+psycopg://")
    assert settings.secret_key is not None


def test_the_image_contains_every_package_the_wheel_ships() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"][
        "packages"
    ]
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) \./\1$", dockerfile, flags=re.M))
    assert copied == set(packages)
    assert '".[postgres]"' in dockerfile


def test_the_database_init_script_creates_what_the_url_names(compose: dict[str, Any]) -> None:
    url = signoff_env(compose, "signoff-worker")["SIGNOFF_DATABASE_URL"]
    user, password, database = re.fullmatch(r".*://(\w+):(\w+)@[\w.-]+:\d+/(\w+)", url).groups()  # type: ignore[union-attr]
    script = (ROOT / "deploy" / "postgres-init.sql").read_text()
    assert f"CREATE USER {user} WITH PASSWORD '{password}'" in script
    assert f"CREATE DATABASE {database} OWNER {user}" in script
