"""Task runner: one set of commands for people and CI (`.ci/run` calls these).

Sessions run in the project's uv environment (`uv sync` first), so there is one environment to
install and the versions are exactly those of uv.lock.

    uv run nox -s generate          regenerate generated_client/ from openapi.yaml (and the
                                    generated parts of asyncapi.yaml, clients/nats-types,
                                    docs/config.md and docs/api.md)
    uv run nox -s check_generated   fail if any of them differs from a fresh generation
    uv run nox -s lint typecheck    ruff, import-linter, module sizes; mypy (strict)
    uv run nox -s lint_specs        the official AsyncAPI, Redocly and Spectral linters on the specs
    uv run nox -s tests             the test suite
    uv run nox -s fuzz              schemathesis CLI against a live gateway with a real NATS
    uv run nox -s bench -- NAME     a benchmark under bench/ (without NAME, the list)
    uv run nox -s docs              the documentation site (mkdocs, strict) into site/
"""

from __future__ import annotations

import filecmp
import sys
import tempfile
from pathlib import Path

import nox
from nox.command import CommandFailed

ROOT = Path(__file__).resolve().parent
GENERATED = ROOT / "generated_client"
TEMPLATES = ROOT / "openapi-client-templates"  # our pyproject template for the SDK (hatchling)
MAX_MODULE_LINES = 400
CONTRACTS = ROOT / "server" / "src" / "pyoco_server" / "contracts"  # the root specs link here
SPEC_LINT = ROOT / "tools" / "spec-lint"  # pinned npm linters (package-lock.json)
NATS_TYPES = ROOT / "clients" / "nats-types"  # TypeScript types of the NATS messages
HAND_WRITTEN = [
    "server/src",
    "worker/src",
    "cli/src",
    "tests",
    "bench",
    "tools/docgen",
    "noxfile.py",
]

nox.options.default_venv_backend = "none"
nox.options.sessions = ["check_generated", "lint", "typecheck", "tests"]


def _generate(session: nox.Session, output: Path) -> None:
    session.run(
        "openapi-python-client",
        "generate",
        "--path",
        str(ROOT / "openapi.yaml"),
        "--config",
        str(ROOT / "openapi-client-config.yaml"),
        "--custom-template-path",
        str(TEMPLATES),
        "--meta",
        "uv",
        "--output-path",
        str(output),
        "--overwrite",
        "--fail-on-warning",
        external=True,
    )


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate the SDK in generated_client/ from openapi.yaml."""
    _generate(session, GENERATED)
    _generate_asyncapi(session, check=False)
    _generate_nats_types(session, check=False)
    _generate_typescript_client(session, check=False)
    _generate_docs(session, check=False)


def _differences(committed: Path, fresh: Path, prefix: str = "") -> list[str]:
    comparison = filecmp.dircmp(committed, fresh, ignore=["__pycache__", ".ruff_cache"])
    problems = [f"not generated any more: {prefix}{name}" for name in comparison.left_only]
    problems += [f"missing: {prefix}{name}" for name in comparison.right_only]
    problems += [f"differs: {prefix}{name}" for name in comparison.diff_files]
    for name in comparison.common_dirs:
        problems += _differences(committed / name, fresh / name, f"{prefix}{name}/")
    return problems


@nox.session
def check_generated(session: nox.Session) -> None:
    """Fail when generated_client/ is not exactly what openapi.yaml generates."""
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "generated_client"
        _generate(session, fresh)
        problems = _differences(GENERATED, fresh)
    _generate_asyncapi(session, check=True)
    _generate_nats_types(session, check=True)
    _generate_typescript_client(session, check=True)
    _generate_docs(session, check=True)
    if problems:
        session.error(
            "generated_client/ is out of date with openapi.yaml; run `uv run nox -s generate` "
            "and commit the result:\n  " + "\n  ".join(problems)
        )


def _generate_asyncapi(session: nox.Session, *, check: bool) -> None:
    """asyncapi.yaml's generated end: openapi.yaml's schemas it uses, as JSON Schema."""
    flags = ["--check"] if check else []
    session.run("python", "-m", "pyoco_server.contracts._asyncgen", *flags, external=True)


def _generate_docs(session: nox.Session, *, check: bool) -> None:
    """docs/config.md from the settings, docs/api.md from openapi.yaml and asyncapi.yaml."""
    flags = ["--check"] if check else []
    session.run("python", "-m", "tools.docgen", *flags, external=True)


def _generate_nats_types(session: nox.Session, *, check: bool) -> None:
    """clients/nats-types/src/messages.ts from asyncapi.yaml's message payloads."""
    _npm_ci_if_missing(session, NATS_TYPES)
    flags = ["--check"] if check else []
    session.run("node", str(NATS_TYPES / "scripts" / "generate.mjs"), *flags, external=True)


def _npm_ci_if_missing(session: nox.Session, package: Path) -> None:
    if not (package / "node_modules").is_dir():  # CI runs `npm ci` beforehand
        session.run("npm", "ci", "--prefix", str(package), external=True)


# --- the TypeScript client (clients/typescript): its src/generated/ from openapi.yaml ---------

TS_CLIENT = ROOT / "clients" / "typescript"
TS_GENERATED = TS_CLIENT / "src" / "generated"


def _generate_typescript_client(session: nox.Session, *, check: bool) -> None:
    """clients/typescript/src/generated/ from openapi.yaml (@hey-api/openapi-ts, pinned).

    With `check`, generate into a scratch directory and fail when it differs from the committed
    one. Offline once `npm ci --prefix clients/typescript` has run (CI runs it beforehand).
    """
    if not (TS_CLIENT / "node_modules").is_dir():
        session.run("npm", "ci", "--prefix", str(TS_CLIENT), external=True)
    script = str(TS_CLIENT / "scripts" / "generate.mjs")
    if not check:
        session.run("node", script, str(TS_GENERATED), external=True)
        return
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "generated"
        session.run("node", script, str(fresh), external=True)
        problems = _differences(TS_GENERATED, fresh)
    if problems:
        session.error(
            "clients/typescript/src/generated/ is out of date with openapi.yaml; run "
            "`uv run nox -s generate` and commit the result:\n  " + "\n  ".join(problems)
        )


# --- end of the TypeScript client ------------------------------------------------------------


@nox.session
def lint_specs(session: nox.Session) -> None:
    """The official AsyncAPI parser and CLI, Redocly and Spectral on both specs; errors fail.

    Every linter runs (so one report shows everything) before the session fails.
    """
    _npm_ci_if_missing(session, SPEC_LINT)
    tools = SPEC_LINT / "node_modules" / ".bin"
    asyncapi = str(CONTRACTS / "asyncapi.yaml")  # the file itself: `asyncapi` ignores symlinks
    openapi = str(CONTRACTS / "openapi.yaml")
    ruleset = str(SPEC_LINT / ".spectral.yaml")  # spectral:oas and spectral:asyncapi
    failed = []
    with tempfile.TemporaryDirectory() as scratch:  # no analytics, nothing written to $HOME
        quiet = {
            "CI": "true",
            "ASYNCAPI_METRICS_CONFIG_PATH": str(Path(scratch) / "metrics"),
            "REDOCLY_TELEMETRY": "off",
            "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
        }
        for command in (
            ["node", str(SPEC_LINT / "parse-asyncapi.mjs"), asyncapi],
            [str(tools / "asyncapi"), "validate", asyncapi],
            [
                str(tools / "redocly"),
                "lint",
                openapi,
                "--extends",
                "recommended",
                "--format",
                "stylish",
            ],
            [str(tools / "spectral"), "lint", "-r", ruleset, openapi],
            [str(tools / "spectral"), "lint", "-r", ruleset, asyncapi],
        ):
            try:
                session.run(*command, env=quiet, external=True)
            except CommandFailed:
                failed.append(" ".join(Path(part).name for part in command[:2]))
    if failed:
        session.error(f"spec linters reported errors: {', '.join(failed)}")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and formatting), import-linter (the layers), and the module size limit."""
    session.run("ruff", "check", *HAND_WRITTEN, external=True)
    session.run("ruff", "format", "--check", *HAND_WRITTEN, external=True)
    session.run("lint-imports", external=True)
    too_long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for folder in HAND_WRITTEN
        for path in sorted((ROOT / folder).rglob("*.py") if (ROOT / folder).is_dir() else [])
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    if too_long:
        session.error(
            f"modules over {MAX_MODULE_LINES} lines (split them by concept):\n  "
            + "\n  ".join(too_long)
        )


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the hand-written packages."""
    session.run("mypy", external=True)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (real nats-server, gateway and worker processes)."""
    session.run("pytest", *session.posargs, external=True)


@nox.session
def fuzz(session: nox.Session) -> None:
    """schemathesis (all phases) against a live gateway + worker on a throwaway NATS."""
    sys.path.insert(0, str(ROOT))
    from bench._stack import stack

    with stack(extra_env={"PYOCO_HTTP_VALIDATE_RESPONSES": "1"}) as deployment:
        session.run(
            "schemathesis",
            "run",
            f"{deployment.gateway_url}/openapi.json",
            "--max-examples",
            session.posargs[0] if session.posargs else "200",
            "--report",
            "junit",
            "--report-dir",
            str(ROOT / "reports"),
            external=True,
        )


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site from docs/ into site/; any warning (a broken link, a page
    missing from the nav) fails the build."""
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"}, external=True)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks (see bench/README.md)."""
    session.run("python", "-m", "bench", *session.posargs, external=True)
