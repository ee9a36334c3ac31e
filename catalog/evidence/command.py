"""``aisle train-scorer``: train the evidence scorer and write its artefact, printing the
held-out figures."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from aisle.settings import Settings
from catalog.evidence.dataset import TrainingDataError
from catalog.evidence.training import train, write

EXIT_OK, EXIT_USAGE = 0, 2


def run_train(settings: Settings, *, data: Path, out: Path, cache: Path | None) -> int:
    from catalog.embeddings import build_embeddings

    # The serving backend's vectors: the features must be what the service will compute.
    embeddings = build_embeddings(settings.embedding, settings.data_dir)
    started = time.perf_counter()
    try:
        artefact = train(
            data, embeddings.embed_documents, backend=embeddings.backend, cache=cache, log=_say
        )
    except TrainingDataError as exc:
        print(f"aisle train-scorer: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        write(artefact, out)
    except OSError as exc:
        print(f"aisle train-scorer: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    gate = artefact["gate"]["heldout"]
    for name, row in artefact["heldout"].items():
        _say(
            f"held-out {name}: P@1 {row['precision@1']:.3f}, R@3 {row['recall@3']:.3f}, "
            f"MRR {row['mrr']:.3f} ({row['answerable']} answerable of {row['questions']})"
        )
    _say(
        f"gate threshold {gate['threshold']:.4f}: refusal recall {gate['refusal_recall']:.3f}, "
        f"false refusals {gate['false_refusal_rate']:.3f}, precision "
        f"{gate['refusal_precision']:.3f} (hetPQA hold-out)"
    )
    _say(f"wrote {out} in {time.perf_counter() - started:.0f} s")
    return EXIT_OK


def _say(message: str) -> None:
    print(message, flush=True)
