"""docs/how-to/outcomes.md runs as written, end to end: real sim-provider and gateway
processes on loopback, the official openai SDK, httpx, curl and the CLI."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_procs import GatewayProcess, run_cli, tenant_and_key

from ciyuan.gateway.outcome_body import MAX_OUTCOME_BODY_BYTES
from ciyuan.sim.process import SimProcess

DOC = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "outcomes.md"
#: How long the curl example may take against a loopback gateway.
CURL_TIMEOUT_S = 30


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    home = tmp_path_factory.mktemp("outcomes-docs")
    db_url = f"sqlite:///{home}/ciyuan.db"
    key = tenant_and_key(db_url, "acme")
    tenant_and_key(db_url, "globex")
    sim = SimProcess(["--models", "gpt-4o", "--seed", "5"])
    sim_url = sim.start()
    gateway = GatewayProcess(db_url, ["--upstream", f"sim={sim_url}"])
    try:
        yield gateway.start(), key, db_url
    finally:
        gateway.stop()
        sim.stop()


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text("utf-8"), re.S)


def test_the_examples_run_against_the_real_gateway(
        stack: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url, key, db_url = stack
    monkeypatch.setenv("CIYUAN_GATEWAY", url)
    monkeypatch.setenv("CIYUAN_KEY", key)
    [python] = _blocks("python")
    namespace: dict[str, object] = {}
    exec(compile(python, str(DOC), "exec"), namespace)
    assert capsys.readouterr().out.strip() == "accepted 12.5 USD"
    again = __import__("httpx").post(  # the documented retry: same key, same body → 200
        f"{url}/v1/outcomes", headers={"Authorization": f"Bearer {key}",
                                       "Idempotency-Key": "crm-4711"},
        json={"request_id": namespace["request_id"], "outcome": "accepted", "value": "12.50",
              "currency": "USD", "score": 0.9, "note": "sent unchanged"})
    assert again.status_code == 200 and again.json() == namespace["reply"].json()  # type: ignore[attr-defined]

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed: the curl example was not run")
    [bash] = _blocks("bash")
    done = subprocess.run(["bash", "-c", bash], capture_output=True, text=True,
                          timeout=CURL_TIMEOUT_S, check=True,
                          env={"CIYUAN_GATEWAY": url, "CIYUAN_KEY": key, "PATH": "/usr/bin:/bin"})
    assert '"outcome": "partial"' in done.stdout and '"task_id": "ticket-4711"' in done.stdout

    listed = run_cli(db_url, "outcomes", "--tenant", "acme")
    assert [(o["outcome"], o["request_id"]) for o in listed["outcomes"]] == [  # type: ignore[index, union-attr]
        ("accepted", namespace["request_id"]), ("partial", namespace["request_id"])]
    # one call in the task: the report by task links to it, and supersedes the first
    assert listed["summary"]["by_outcome"] == {"accepted": 0, "rejected": 0, "partial": 1}  # type: ignore[index]


def test_another_tenants_key_gets_404_through_the_real_gateway(
        stack: tuple[str, str, str]) -> None:
    import httpx

    url, key, db_url = stack
    other = tenant_and_key(db_url, "initech")
    with httpx.Client(base_url=url, timeout=30) as client:
        call = client.post("/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                           json={"model": "gpt-4o",
                                 "messages": [{"role": "user", "content": "hi"}]})
        record_id = call.headers["x-ciyuan-usage-record"]
        theirs = client.post("/v1/outcomes", headers={"Authorization": f"Bearer {other}"},
                             json={"request_id": record_id, "outcome": "rejected"})
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "outcome_subject_not_found"
    assert run_cli(db_url, "outcomes", "--tenant", "initech")["outcomes"] == []


def test_the_documented_bounds_are_the_codes() -> None:
    text = DOC.read_text("utf-8")
    assert f"{MAX_OUTCOME_BODY_BYTES // 1024} KiB" in text
    from ciyuan.core.outcomes import MAX_NOTE_CHARS, MAX_OUTCOME_ID_CHARS

    assert f"{MAX_NOTE_CHARS:,} characters" in text
    assert f"at most {MAX_OUTCOME_ID_CHARS} characters" in text
