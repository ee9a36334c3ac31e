"""The ``epqa`` question set: the shipped ePQA sample, with gold answers and labelled evidence."""

from __future__ import annotations

from pathlib import Path

from evaluation.questions import EPQA_DIR, DatasetError, Evidence, Question, parse_line, read_lines


def epqa_questions(directory: Path = EPQA_DIR) -> list[Question]:
    """The ePQA sample: each question asked about its product, with gold answers and labelled
    evidence; questions without a fully answering snippet are the unanswerable set."""
    path = directory / "questions.jsonl"
    questions: list[Question] = []
    for lineno, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        row = parse_line(path, lineno, line)
        try:
            candidates = tuple(
                Evidence(text=str(c["text"]), label=int(c["label"])) for c in row["candidates"]
            )
            answerable = bool(row["answerable"])
            title = " ".join(str(row["title"]).replace('\\"', '"').split())
            asin = str(row["asin"])
            best = next((c for c in row["candidates"] if int(c["label"]) == 2), None)
            qtype = f"evidence_{best['source']}" if answerable and best else "unanswerable"
            questions.append(
                Question(
                    qid=f"epqa-{row['qid']}",
                    question=f"About the {title}: {str(row['question']).strip()}",
                    qtype=qtype,
                    answerable=answerable,
                    product_id=asin,
                    relevant_ids=(asin,),
                    gold_answers=tuple(str(a) for a in row.get("gold_answers") or ()),
                    evidence=candidates,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"{path}:{lineno}: bad ePQA row: {exc!r}") from None
    return questions
