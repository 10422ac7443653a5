"""Submits are limited per tenant by a token bucket: 429 problem with Retry-After beyond it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pyoco_server.domain.errors import SettingsError
from pyoco_server.domain.keys import SubmitLimit
from pyoco_server.domain.settings import Settings
from pyoco_server.gateway.ratelimit import TokenBuckets
from tests.support.cli import Admin, create_key
from tests.support.flows import FLOW_YAML
from tests.support.processes import Gateway, start_gateway
from tests.support.usage import problem
from tests.support.waiting import wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)

    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0  # another tenant has its own
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(0.5)
    clock.now += 60
    assert [buckets.take("a") for _ in range(4)][-1] == pytest.approx(0.5)  # refilled to burst


def test_a_take_may_name_its_own_rate_and_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=100.0, burst=100, clock=clock)

    assert [buckets.take("key:a", 0.5, 2) for _ in range(3)] == [0.0, 0.0, pytest.approx(2.0)]
    assert buckets.take("tenant:t") == 0.0  # the default bucket is untouched
    clock.now += 2.0
    assert buckets.take("key:a", 0.5, 2) == 0.0


@pytest.mark.parametrize(
    ("rate", "burst", "message"),
    [
        (0.0, None, "above 0"),
        (float("nan"), None, "above 0"),
        (1.0, 0, "1 or more"),
        (None, 5, "needs a submit rate"),
    ],
)
def test_a_key_limit_is_checked(rate: float | None, burst: int | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SubmitLimit(rate, burst)


@pytest.mark.parametrize("raw", ["fast", "-1", "inf"])
def test_the_rate_setting_takes_a_number_per_second(raw: str) -> None:
    with pytest.raises(SettingsError, match="a number per second, 0 \\(no limit\\) or more"):
        Settings.from_env({"PYOCO_LOAD_DOTENV": "0", "PYOCO_SUBMIT_RATE_PER_SEC": raw})


@pytest.fixture
def settings_env(settings_env: dict[str, str]) -> dict[str, str]:
    return {**settings_env, "PYOCO_SUBMIT_RATE_PER_SEC": "0.2", "PYOCO_SUBMIT_BURST": "3"}


def test_submits_over_the_rate_are_429_and_store_nothing(gateway: Gateway) -> None:
    with gateway.client() as client:
        accepted = [
            client.post("/runs", json={"flow_name": "main"}),
            client.post(
                "/runs/yaml", files={"workflow": ("flow.yaml", FLOW_YAML)}, data={"flow_name": "m"}
            ),
            client.post("/runs", json={"flow_name": "main"}),
        ]
        refused = [
            client.post("/runs", json={"flow_name": "main"}),
            client.post(
                "/runs/yaml", files={"workflow": ("flow.yaml", FLOW_YAML)}, data={"flow_name": "m"}
            ),
            client.post(f"/runs/{accepted[0].json()['run_id']}/rerun"),  # a re-run is a submit
        ]
        wait_until(lambda: len(client.get("/runs").json()["items"]) >= 3, what="3 runs listed")
        listed = client.get("/runs").json()["items"]
        assert client.get("/health").status_code == 200  # only submits are limited

    assert [response.status_code for response in accepted] == [201, 201, 201]
    for response in refused:
        detail = problem(response, 429, "submit_rate_limited")["detail"]
        assert "PYOCO_SUBMIT_RATE_PER_SEC" in str(detail)
        assert 1 <= int(response.headers["retry-after"]) <= 5  # a token every 5 s
    assert len(listed) == 3


def test_each_tenant_has_its_own_bucket(settings: Settings, tmp_path: Path) -> None:
    gateway = start_gateway(settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key")
    acme, other = create_key(settings, "acme", "user"), create_key(settings, "other", "user")
    with gateway.client() as client:

        def submit(key: str) -> int:
            response = client.post("/runs", json={"flow_name": "m"}, headers={"X-API-Key": key})
            return response.status_code

        assert [submit(acme) for _ in range(4)] == [201, 201, 201, 429]
        assert [submit(other) for _ in range(3)] == [201, 201, 201]
        assert submit(acme) == 429


def test_a_key_with_its_own_limit_has_its_own_bucket(settings: Settings, tmp_path: Path) -> None:
    gateway = start_gateway(
        settings, tmp_path, PYOCO_HTTP_AUTH_MODE="api_key", PYOCO_SUBMIT_RATE_PER_SEC="0"
    )
    limited = ("--submit-rate-per-sec", "0.01", "--submit-burst", "2")
    ci, plain = create_key(settings, "acme", "user", *limited), create_key(settings, "acme", "user")
    with gateway.client() as client:

        def submit(key: str) -> httpx.Response:
            return client.post("/runs", json={"flow_name": "m"}, headers={"X-API-Key": key})

        ci_codes = [submit(ci).status_code for _ in range(2)]
        refused = submit(ci)
        plain_codes = [submit(plain).status_code for _ in range(6)]  # no default limit

    assert ci_codes == [201, 201]
    detail = str(problem(refused, 429, "submit_rate_limited")["detail"])
    assert "the key's own limit" in detail
    assert int(refused.headers["retry-after"]) == 100  # a token every 100 s
    assert plain_codes == [201] * 6


def test_admin_refuses_a_burst_without_a_rate(admin: Admin) -> None:
    done = admin("api-key", "create", "--tenant", "acme", "--submit-burst", "5")
    assert done.returncode != 0
    assert "--submit-burst needs --submit-rate-per-sec" in done.stderr
    done = admin("api-key", "create", "--tenant", "acme", "--submit-rate-per-sec", "0")
    assert done.returncode != 0
    assert "--submit-rate-per-sec" in done.stderr
