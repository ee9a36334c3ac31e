"""``aisle eval`` end to end against the real API: every report file, the regression gate
against the committed CI baseline, a synthetic drop failing it, a self-started API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aisle.settings import Settings
from evaluation.command import run_eval
from tests.conftest import DEMO_CATALOG, ROOT, free_port, stop_process, wait_for_http

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CI_BASELINE = ROOT / "evaluation" / "baselines" / "field-ci"
REPORT_FILES = {
    "report.md",
    "metrics.json",
    "results.jsonl",
    "metrics_by_backend.png",
    "latency_hist.png",
    "recall_at_k.png",
}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def demo_api(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``aisle serve`` over the session's demo store, on a free loopback port."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("eval-api") / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "aisle.cli", "serve", "--port", str(port)],
            env=_env(AISLE_DATA_DIR=str(demo_data_dir)),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{url}/readyz", timeout=180, process=process)
            yield url
        finally:
            stop_process(process)


def _eval(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aisle.cli", "eval", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _run_dir(out: Path) -> Path:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def test_ci_gate_passes_against_the_baseline_and_fails_on_a_drop(
    demo_api: str, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    done = _eval(
        "--dataset", "field", "--limit", "50", "--api-url", demo_api,
        "--out", str(out), "--compare", str(CI_BASELINE),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No metric dropped" in done.stdout
    run = _run_dir(out)
    assert {p.name for p in run.iterdir()} >= REPORT_FILES
    for png in REPORT_FILES - {"report.md", "metrics.json", "results.jsonl"}:
        assert (run / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((run / "metrics.json").read_text())
    baseline = json.loads((CI_BASELINE / "metrics.json").read_text())
    assert data["questions"] == 50 and data["fingerprint"] == baseline["fingerprint"]
    assert data["backends"] == ["extractive"]
    assert {"price", "warranty", "unknown_product", "missing_attribute"} <= set(data["by_type"])
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 50
    assert all({"question", "answer", "sources", "refused", "verdicts"} <= set(r) for r in rows)
    assert any(r["verdicts"].get("exact") == 1.0 for r in rows)
    report = (run / "report.md").read_text()
    assert "## Per question type" in report and "## Compared with the baseline" in report

    # A doctored baseline that was better than today on every higher-is-better metric.
    doctored = tmp_path / "doctored"
    doctored.mkdir()
    better = dict(baseline)
    better["overall"] = {
        name: value + 0.2 if name in ("exact", "recall@5", "citation_correct") else value
        for name, value in baseline["overall"].items()
    }
    (doctored / "metrics.json").write_text(json.dumps(better))
    failed = _eval(
        "--dataset", "field", "--limit", "50", "--api-url", demo_api,
        "--out", str(tmp_path / "again"), "--compare", str(doctored),
        cwd=tmp_path,
    )  # fmt: skip
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "REGRESSION" in failed.stdout
    assert "all:exact" in failed.stdout and "all:recall@5" in failed.stdout


def test_bad_dataset_file_is_reported_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "mine.jsonl"
    bad.write_text('{"question": "fine?"}\n{"question": 3}\n')
    done = _eval("--dataset", str(bad), "--api-url", "http://127.0.0.1:9", cwd=tmp_path)
    assert done.returncode == 2
    assert f"{bad}:2: 'question' must be a non-empty string" in done.stderr
    assert "Traceback" not in done.stderr


def test_self_started_api_ingests_the_catalog_and_stops(
    make_settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = json.loads(DEMO_CATALOG.read_text())[:4]
    catalog = tmp_path / "tiny.json"
    catalog.write_text(json.dumps(rows))
    first = rows[0]
    questions = tmp_path / "tiny-questions.jsonl"
    questions.write_text(
        json.dumps({"id": "price", "question": f"How much is the {first['title']}?",
                    "product_id": str(first["id"]), "gold_values": [str(first["price"])],
                    "type": "price"}) + "\n"
        + json.dumps({"id": "rocket", "question": "Do you sell the Zorvik Rocket 9000?",
                      "answerable": False, "type": "unknown_product"}) + "\n"
    )  # fmt: skip
    settings: Settings = make_settings()
    code = run_eval(
        settings,
        dataset=str(questions),
        api_url=None,
        backend="extractive",
        limit=None,
        out=tmp_path / "out",
        compare=None,
        catalog=[catalog],
    )
    output = capsys.readouterr()
    assert code == 0, output.out + output.err
    data = json.loads((_run_dir(tmp_path / "out") / "metrics.json").read_text())
    assert data["api_url"] == "self-started" and data["questions"] == 2
    assert data["by_type"]["price"]["exact"] == 1.0
    assert data["by_type"]["price"]["recall@1"] == 1.0
    assert data["overall"]["error"] == 0.0
    # The private server is gone: its port no longer answers.
    assert "Starting the API on http://127.0.0.1:" in output.out
    port = int(output.out.split("Starting the API on http://127.0.0.1:")[1].split("…")[0])
    with pytest.raises(OSError):
        import socket

        socket.create_connection(("127.0.0.1", port), timeout=2).close()
