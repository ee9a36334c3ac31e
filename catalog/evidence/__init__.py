"""The learned evidence scorer: which passages answer a question, and whether any does.

    scorer = EvidenceScorer.load(embeddings=LocalEmbeddings())
    scores = scorer.score("does it fit a 2015 mustang?", [Passage("fits 2010-2014", "specs")])
    scorer.answerable(max(scores))

Trained by ``aisle train-scorer`` (``catalog.evidence.training``) on ``data/pqa_train``.
"""

from catalog.evidence.features import FEATURES, Passage
from catalog.evidence.scorer import ARTEFACT, EvidenceScorer, ScorerError

__all__ = ["ARTEFACT", "FEATURES", "EvidenceScorer", "Passage", "ScorerError"]
