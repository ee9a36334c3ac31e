"""Optional LLM-as-judge faithfulness, through the configured OpenAI-compatible backend.

Off by default (``aisle eval --judge``): it costs one LLM call per answered question and its
scores are only as good as the judging model. The deterministic ``grounded_*`` metrics are
always computed; this adds ``judge_faithfulness`` (0..1) next to them.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import SecretStr

from aisle.settings import Settings

PROMPT = """You check whether an answer is faithful to the context it was given.
Faithful means every claim in the answer is stated in or directly implied by the context.

Context:
{context}

Question: {question}

Answer: {answer}

Reply with one number between 0 and 1 (1 = fully faithful, 0 = nothing supported), nothing else."""

_SCORE = re.compile(r"(?<![\d.])(0(?:\.\d+)?|1(?:\.0+)?)(?![\d.])")
_MAX_CONTEXT_CHARS = 6000


def parse_score(text: str) -> float | None:
    """The first number in [0, 1] in the judge's reply, or None."""
    match = _SCORE.search(text)
    return float(match.group(1)) if match else None


class OpenAIJudge:
    """Callable judge: (question, answer, context) -> faithfulness or None on failure."""

    def __init__(self, settings: Settings, model: Any | None = None) -> None:
        if model is None:
            from langchain_openai import ChatOpenAI

            cfg = settings.openai
            api_key = cfg.api_key
            if api_key is None and cfg.base_url:
                api_key = SecretStr("not-needed")  # local OpenAI-compatible servers need none
            model = ChatOpenAI(
                model=cfg.model,
                api_key=api_key,
                base_url=cfg.base_url,
                timeout=cfg.timeout_s,
                max_retries=cfg.max_retries,
                temperature=0.0,
                # In the body as is: langchain-openai renames its own field to
                # max_completion_tokens, which llama.cpp's server ignores.
                extra_body={"max_tokens": 8},
            )
        self._model = model
        self.failures = 0

    def __call__(self, question: str, answer: str, context: str) -> float | None:
        prompt = PROMPT.format(
            context=context[:_MAX_CONTEXT_CHARS], question=question, answer=answer
        )
        try:
            reply = self._model.invoke(prompt)
        except Exception:  # any provider error: this question gets no judge score
            self.failures += 1
            return None
        return parse_score(str(getattr(reply, "content", reply)))
