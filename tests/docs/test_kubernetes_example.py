"""The Kubernetes manifests of docs/operations.md, checked without a cluster.

Against Kubernetes' own schemas (kubernetes-validate, strict: a misspelt field fails), and
against this project: the variables are settings it reads, with values it accepts; a file a
variable names is on a volume the pod mounts; the commands are its own, with flags they take;
the readiness probe's path is in openapi.yaml; the Service selects the gateway's pods and
reaches its port; the workers get the time their shutdown takes before Kubernetes kills them.
"""

from __future__ import annotations

import dataclasses
import posixpath
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import kubernetes_validate
import pytest
import yaml

from pyoco_server.cli.admin import cli as admin_cli
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway.__main__ import parser as gateway_parser
from pyoco_worker import worker as worker_module
from pyoco_worker.cli import main as worker_cli
from tests.support.docs import blocks, shell_commands

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## On an existing NATS cluster (Kubernetes)"
KUBERNETES = "1.31.0"

Manifest = dict[str, Any]


def manifests() -> list[Manifest]:
    found = [
        document
        for block in blocks(ROOT / "docs/operations.md", SECTION, "\nNotes:")
        if block.language == "yaml"
        for document in yaml.safe_load_all(block.text)
        if isinstance(document, dict) and "apiVersion" in document
    ]
    assert found, f"no manifests under {SECTION!r}"
    return found


def named(kind: str, name: str) -> Manifest:
    (found,) = [m for m in manifests() if m["kind"] == kind and m["metadata"]["name"] == name]
    return found


def pods() -> Iterator[tuple[str, Manifest]]:
    """(manifest name, pod spec) of every manifest that runs containers."""
    for manifest in manifests():
        if manifest["kind"] in ("Job", "Deployment"):
            yield manifest["metadata"]["name"], manifest["spec"]["template"]["spec"]


def settings_variables() -> set[str]:
    return {
        name
        for field in dataclasses.fields(Settings)
        for name in (field.metadata["env"], *field.metadata["aliases"])
    }


def environment(container: Manifest) -> dict[str, str]:
    return {variable["name"]: variable["value"] for variable in container.get("env", [])}


@pytest.mark.parametrize(
    "manifest", manifests(), ids=lambda m: f"{m['kind']}-{m['metadata']['name']}"
)
def test_each_manifest_is_valid_kubernetes(manifest: Manifest) -> None:
    kubernetes_validate.validate(manifest, KUBERNETES, strict=True)


def test_every_variable_is_a_setting_with_a_value_it_accepts() -> None:
    known = settings_variables()
    for name, pod in pods():
        for container in pod["containers"]:
            env = environment(container)
            unknown = set(env) - known
            assert not unknown, f"{name}: {sorted(unknown)} are not settings"
            Settings.from_env({**env, "PYOCO_LOAD_DOTENV": "0"})  # raises on a bad value


def test_every_file_a_variable_names_is_on_a_mounted_volume() -> None:
    checked = 0
    for name, pod in pods():
        volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
        for container in pod["containers"]:
            mounts = container.get("volumeMounts", [])
            for mount in mounts:
                assert mount["name"] in volumes, f"{name}: no volume {mount['name']!r}"
            for variable, value in environment(container).items():
                if not value.startswith("/"):
                    continue
                holding = [
                    mount
                    for mount in mounts
                    if posixpath.commonpath([value, mount["mountPath"]]) == mount["mountPath"]
                ]
                assert holding, f"{name}: {variable}={value} is on no mounted volume"
                checked += 1
                if variable == "PYOCO_NATS_CREDS":  # a secret of its own, with that file in it
                    (mount,) = holding
                    assert "secret" in volumes[mount["name"]], f"{name}: creds not from a Secret"
    assert checked >= 4  # three .creds files and the gateway's index


def commands() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, pod in pods():
        (container,) = pod["containers"]
        found[name] = container["command"]
    return found


def parses(command: click.Command, args: list[str]) -> None:
    """Parse `args` as `command` would, callbacks included, without running it.

    For a group, `args` begin with the subcommand (the group's own options are not used).
    """
    if isinstance(command, click.Group):
        name, *args = args
        context = click.Context(command, info_name=command.name)
        sub = command.get_command(context, name)
        assert sub is not None, f"no subcommand {name!r}"
        sub.make_context(name, args, parent=context)
    else:
        command.make_context(command.name or "command", list(args))


def test_the_commands_and_flags_are_the_projects() -> None:
    found = commands()
    assert found["pyoco-setup"][0] == "pyoco-server-admin"
    parses(admin_cli, found["pyoco-setup"][1:])
    gateway = found["pyoco-gateway"]
    assert gateway[:3] == ["python", "-m", "pyoco_server.gateway"]
    arguments = gateway_parser().parse_args(gateway[3:])
    assert arguments.host == "0.0.0.0", "a pod's gateway must listen beyond its loopback"
    worker = found["pyoco-worker-default"]
    assert worker[0] == "pyoco-worker"
    parses(worker_cli, worker[1:])
    pyproject = (ROOT / "server/pyproject.toml").read_text() + (
        ROOT / "worker/pyproject.toml"
    ).read_text()
    for script in ("pyoco-server-admin", "pyoco-worker"):
        assert f"\n{script} = " in pyproject, f"{script} is not a console script"


def test_the_probe_the_service_and_the_ports_meet() -> None:
    gateway = named("Deployment", "pyoco-gateway")["spec"]
    (container,) = gateway["template"]["spec"]["containers"]
    port = gateway_parser().parse_args(container["command"][3:]).port
    assert [p["containerPort"] for p in container["ports"]] == [port]
    probe = container["readinessProbe"]["httpGet"]
    assert probe["port"] == port
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    assert "get" in spec["paths"][probe["path"]]
    assert "security" in spec["paths"][probe["path"]]["get"], "the probe needs no key"
    assert spec["paths"][probe["path"]]["get"]["security"] == []
    service = named("Service", "pyoco-gateway")["spec"]
    labels = gateway["template"]["metadata"]["labels"]
    assert service["selector"].items() <= labels.items()
    assert gateway["selector"]["matchLabels"].items() <= labels.items()
    assert [p["targetPort"] for p in service["ports"]] == [port]


def test_workers_finish_their_shutdown_before_kubernetes_kills_them() -> None:
    worker = named("Deployment", "pyoco-worker-default")["spec"]["template"]["spec"]
    (container,) = worker["containers"]
    settings = Settings.from_env({**environment(container), "PYOCO_LOAD_DOTENV": "0"})
    # Fetches end, runs get their grace, the rest are stopped and handed back (worker.py).
    longest = (
        worker_module.FETCH_TIMEOUT_SEC
        + settings.worker_shutdown_grace_sec
        + worker_module.ABANDON_WAIT_SEC
    )
    assert worker["terminationGracePeriodSeconds"] > longest


def test_the_secrets_the_pods_mount_are_the_ones_the_page_creates() -> None:
    created = {
        shlex.split(command)[4]: shlex.split(command)[5].removeprefix("--from-file=")
        for block in blocks(ROOT / "docs/operations.md", SECTION, "\nNotes:")
        if block.language == "sh"
        for command in shell_commands(block.text)
        if command.startswith("kubectl create secret generic ")
    }
    for name, pod in pods():
        secrets = {
            volume["name"]: volume["secret"]["secretName"]
            for volume in pod.get("volumes", [])
            if "secret" in volume
        }
        (container,) = pod["containers"]
        creds = environment(container)["PYOCO_NATS_CREDS"]
        (mount,) = [m for m in container["volumeMounts"] if m["name"] in secrets]
        secret = secrets[mount["name"]]
        assert secret in created, f"{name} mounts {secret}, which the page does not create"
        assert posixpath.join(mount["mountPath"], created[secret]) == creds
