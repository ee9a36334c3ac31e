"""Customer reviews as the source rows hold them: a list of strings or of objects with a
comment and an author under any names."""

from __future__ import annotations

from typing import Any


def review_comments(reviews: Any) -> list[tuple[str, str]]:
    """(comment, author) per review with a comment; the author may be empty."""
    if not isinstance(reviews, list):
        return []
    found = []
    for review in reviews:
        if isinstance(review, dict):
            name = str(review.get("reviewerName") or review.get("author") or "").strip()
            comment = str(review.get("comment") or review.get("text") or "").strip()
            if not comment:  # another shape: its longest text that is not the author
                texts = [v.strip() for v in review.values() if isinstance(v, str)]
                comment = max((t for t in texts if t != name), key=len, default="")
            if comment:
                found.append((comment, name))
        elif isinstance(review, str) and review.strip():
            found.append((review.strip(), ""))
    return found
