"""Training the evidence scorer: data loading, the gate's threshold rule, determinism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from catalog.evidence import EvidenceScorer
from catalog.evidence.dataset import (
    HETPQA_FILE,
    SEMIPQA_FILES,
    TrainingDataError,
    load_groups,
)
from catalog.evidence.training import choose_threshold, train, write

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_training_data():
    groups = load_groups(ROOT / "data" / "pqa_train")
    het = [g for g in groups if g.dataset == "hetpqa"]
    assert len(het) == 509 and sum(g.answerable for g in het) == 386
    assert len(groups) - len(het) == 2326
    kinds = {p.kind for g in het for p in g.passages}
    assert kinds == {"attribute", "bullet", "Desc", "OSP", "CQA", "review"}
    # semiPQA repeats some questions under other ids: cross-validation groups by the text.
    assert len({g.split_key for g in groups}) < len(groups)


def _write_data(directory: Path, extra_row: str = "") -> None:
    het = ["qid\tASIN\tqa_pair_id\tquestion\tcandidate\tlabel\tsource\tconfidence"]
    for q in range(12):
        het.append(f"{q}\tA{q}\t1\thow many ports on {q}?\t{q} usb ports\t1\tbullet\thigh")
        het.append(f"{q}\tA{q}\t2\thow many ports on {q}?\tthe colour is red\t0\treview\thigh")
        het.append(f"{q}\tA{q}\t3\thow many ports on {q}?\tsturdy case\t0\tCQA\tmid")
    for q in range(12, 15):  # unanswerable: no positive candidate
        het.append(f"{q}\tA{q}\t1\tis it waterproof {q}?\tships fast\t0\treview\thigh")
    (directory / HETPQA_FILE).write_text("\n".join(het) + "\n" + extra_row, encoding="utf-8")
    for n, name in enumerate(SEMIPQA_FILES):
        semi = ["qid\tqa_pair_id\tquestion\tcandidate\tlabel"]
        for q in range(100 * n, 100 * n + 12):
            semi.append(f"{q}\t1\twhat colour is model {q}?\tcolor:  {{ value:red }}\t1")
            semi.append(f"{q}\t2\twhat colour is model {q}?\titem_weight:  {{ value:{q} }}\t0")
        (directory / name).write_text("\n".join(semi) + "\n", encoding="utf-8")


def _embed(texts: list[str]) -> list[list[float]]:
    """Deterministic stand-in vectors: a hash of the text's words, normalised."""
    out = []
    for text in texts:
        vector = np.zeros(64)
        for word in text.lower().split():
            vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % 64] += 1.0
        out.append((vector / (np.linalg.norm(vector) or 1.0)).tolist())
    return out


def test_training_is_deterministic_and_the_artefact_loads(tmp_path):
    _write_data(tmp_path)
    first = train(tmp_path, _embed, log=lambda _: None)
    second = train(tmp_path, _embed, cache=tmp_path / "cache.npz", log=lambda _: None)
    third = train(tmp_path, _embed, cache=tmp_path / "cache.npz", log=lambda _: None)
    assert first == second == third
    assert first["training"]["questions"] == 51 and first["training"]["pairs"] == 111
    write(first, tmp_path / "scorer.json")
    scorer = EvidenceScorer.load(tmp_path / "scorer.json")
    assert scorer.threshold == first["gate"]["threshold"]


def test_bad_rows_name_file_and_line(tmp_path):
    _write_data(tmp_path, extra_row="99\tA\t1\tq?\tc\tmaybe\tbullet\thigh\n")
    with pytest.raises(TrainingDataError, match=rf"{HETPQA_FILE}:41: label is not 0 or 1"):
        load_groups(tmp_path)
    (tmp_path / HETPQA_FILE).write_text("qid\tquestion\n1\tq?\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r":1: missing columns"):
        load_groups(tmp_path)
    (tmp_path / HETPQA_FILE).unlink()
    with pytest.raises(TrainingDataError, match="cannot read"):
        load_groups(tmp_path)


def test_the_gate_refuses_as_much_as_the_false_refusal_budget_allows():
    questions = [{"best": s, "answerable": True} for s in np.linspace(0.3, 1.0, 50)]
    questions += [{"best": s, "answerable": False} for s in (0.1, 0.2, 0.3, 0.6)]
    chosen = choose_threshold(questions)
    # 4 of 50 answerable may be refused (8 %): the threshold is the 5th answerable score.
    assert chosen["threshold"] == pytest.approx(0.3 + 4 * 0.7 / 49, abs=1e-6)
    assert chosen["false_refusal_rate"] == pytest.approx(0.08)
    assert chosen["refusal_recall"] == pytest.approx(0.75)  # 0.1, 0.2, 0.3 (not 0.6)
