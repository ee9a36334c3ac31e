"""The shipped evidence-scorer artefact and the scorer's behaviour without a model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aisle.settings import EmbeddingSettings
from catalog.evidence import FEATURES, EvidenceScorer, Passage, ScorerError
from catalog.evidence.dataset import data_hash

ROOT = Path(__file__).resolve().parents[2]
ARTEFACT = ROOT / "catalog" / "evidence" / "scorer-v1.json"


@pytest.fixture(scope="module")
def artefact() -> dict:
    return json.loads(ARTEFACT.read_text(encoding="utf-8"))


def test_the_shipped_artefact_is_trained_on_the_shipped_data(artefact):
    assert artefact["version"] == "1"
    assert artefact["features"] == list(FEATURES)
    assert artefact["training"]["data_sha256"] == data_hash(ROOT / "data" / "pqa_train")
    assert artefact["training"]["questions"] == 2835 and artefact["training"]["pairs"] == 34452
    assert "CDLA-Sharing-1.0" in artefact["licence"]
    # Trained on the vectors the service computes: a new default backend needs a retrain.
    assert artefact["training"]["embedding_backend"] == EmbeddingSettings().backend
    assert len(artefact["coef"]) == len(artefact["mean"]) == len(FEATURES)


def test_held_out_metrics_and_gate_are_recorded(artefact):
    het = artefact["heldout"]["hetpqa"]
    # Better than chance on ~5 candidates (P@1 ~0.3): the model learned something.
    assert het["precision@1"] > 0.6 and het["mrr"] > 0.75
    gate = artefact["gate"]["heldout"]
    assert gate["false_refusal_rate"] <= 0.08
    assert gate["threshold"] == artefact["gate"]["threshold"]
    curve = artefact["gate"]["curve_hetpqa"]
    assert [p["refusal_recall"] for p in curve] == sorted(p["refusal_recall"] for p in curve)


def test_package_data_loads_the_same_artefact(artefact):
    scorer = EvidenceScorer.load()
    assert scorer.version == "1"
    assert scorer.threshold == artefact["gate"]["threshold"]
    assert scorer.answerable(scorer.threshold) and not scorer.answerable(scorer.threshold - 1e-6)


def test_given_similarities_need_no_model_and_rank_the_answer_first():
    scorer = EvidenceScorer.load()  # no embeddings: every passage brings its similarity

    passages = [
        Passage("the fan is a bit loud", "reviews", similarity=0.21),
        Passage("2 grounded ac outlets and one usb port", "description", similarity=0.55),
        Passage("ships in a plain box", "description", similarity=0.12),
    ]
    vector = np.zeros(384, dtype=np.float32)
    scores = scorer.score("how many outlets does it have?", passages, question_vector=vector)
    assert len(scores) == 3 and all(0.0 < s < 1.0 for s in scores)
    assert int(np.argmax(scores)) == 1
    assert scorer.score("anything?", []) == []


def test_passage_like_objects_are_accepted():
    from dataclasses import dataclass

    @dataclass
    class ServicePassage:  # what service.answering.passages.Passage looks like
        text: str
        kind: str

    class Embedder:
        calls = 0

        def embed_documents(self, texts):
            Embedder.calls += 1
            rng = np.random.default_rng(7)
            vectors = rng.normal(size=(len(texts), 384))
            return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).tolist()

    scorer = EvidenceScorer.load(embeddings=Embedder())
    passages = [ServicePassage("Warranty: 1 year", "attribute"), ServicePassage("nice", "core")]
    first = scorer.score("what warranty?", passages)
    second = scorer.score("what warranty?", passages)
    assert first == second
    assert Embedder.calls == 1  # the second call is served from the vector cache


def test_missing_embeddings_are_an_error():
    with pytest.raises(ScorerError, match="needs embeddings"):
        EvidenceScorer.load().score("q?", [Passage("no similarity given")])


def test_bad_artefacts_are_named(tmp_path, artefact):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "aisle-evidence-scorer",\n  oops}', encoding="utf-8")
    with pytest.raises(ScorerError, match=r"broken\.json:2: invalid JSON"):
        EvidenceScorer.load(broken)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**artefact, "features": ["cos"]}), encoding="utf-8")
    with pytest.raises(ScorerError, match="other features"):
        EvidenceScorer.load(other)
    with pytest.raises(ScorerError, match="cannot read"):
        EvidenceScorer.load(tmp_path / "absent.json")
    short = tmp_path / "short.json"
    short.write_text(json.dumps({**artefact, "coef": artefact["coef"][:-1]}), encoding="utf-8")
    with pytest.raises(ScorerError, match="wrong number of weights"):
        EvidenceScorer.load(short)
    gateless = {key: value for key, value in artefact.items() if key != "gate"}
    (tmp_path / "gateless.json").write_text(json.dumps(gateless), encoding="utf-8")
    with pytest.raises(ScorerError, match="lacks or garbles 'gate'"):
        EvidenceScorer.load(tmp_path / "gateless.json")
