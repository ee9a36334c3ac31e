"""The CI regression gate on ePQA: evidence, refusal and per-retriever metrics against the
committed baseline (``evaluation/baselines/epqa-ci``), and a better baseline failing it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EPQA_DIR, ROOT, start_api, stop_process

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EPQA_CI = ROOT / "evaluation" / "baselines" / "epqa-ci"
LIMIT = "60"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def epqa_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("epqa-api")
    env = {"AISLE_DATA_DIR": str(work / "data")}
    ingest = subprocess.run(
        [sys.executable, "-m", "aisle.cli", "ingest", str(EPQA_DIR / "products.jsonl")],
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    process, url = start_api(work, env)
    try:
        yield url
    finally:
        stop_process(process)


def _eval(url: str, out: Path, baseline: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "aisle.cli", "eval", "--dataset", "epqa", "--limit", LIMIT,
            "--api-url", url, "--out", str(out), "--compare", str(baseline),
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )  # fmt: skip


def test_epqa_gate_holds_and_a_better_baseline_fails_it(epqa_api: str, tmp_path: Path) -> None:
    done = _eval(epqa_api, tmp_path / "results", EPQA_CI)
    assert done.returncode == 0, done.stdout + done.stderr
    (run,) = [p for p in (tmp_path / "results").iterdir() if p.is_dir()]
    data = json.loads((run / "metrics.json").read_text())
    baseline = json.loads((EPQA_CI / "metrics.json").read_text())
    assert data["fingerprint"] == baseline["fingerprint"]
    overall = data["overall"]
    for name in ("evidence_recall@5", "refusal_recall", "false_refusal_rate"):
        assert name in overall and name in baseline["overall"], name
    for view in ("dense", "keyword", "hybrid", "reranked"):
        assert f"{view}:ndcg@10" in overall and f"{view}:ndcg@10" in baseline["overall"]
    assert "## Retrieval per retriever (all)" in (run / "report.md").read_text()
    assert (run / "gate_pr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    doctored = tmp_path / "doctored"
    doctored.mkdir()
    better = dict(baseline)
    raised = ("evidence_recall@5", "refusal_recall", "keyword:ndcg@10")
    better["overall"] = {
        name: value + 0.2 if name in raised else value
        for name, value in baseline["overall"].items()
    }
    (doctored / "metrics.json").write_text(json.dumps(better))
    failed = _eval(epqa_api, tmp_path / "again", doctored)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    for name in raised:
        assert f"all:{name}" in failed.stdout
