"""Plan -> execute -> compose for one message; the one entry point of the answering core.

``Answerer.run`` gives the plan, what executing it found and the deterministic answer; the
chat service hands the same plan and facts to an LLM backend when one is asked for, and keeps
the deterministic answer as the fallback. ``Answerer.search`` is the search endpoint's path:
the same planner's constraints and sorts, the same execution, no composition.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.embeddings import Embeddings

from catalog.models import Filters
from service.answering.catalog_view import CatalogView
from service.answering.compose import compose
from service.answering.execute import ChunkSource, Executor
from service.answering.facts import Execution
from service.answering.guard import parse_citations
from service.answering.passages import PassageRanker
from service.answering.plan import Planner, RequestPlan, earlier_products
from service.answering.relaxing import Searcher
from service.answering.types import Answer, Turn
from service.answering.wording import example_questions


@dataclass
class Outcome:
    plan: RequestPlan
    execution: Execution
    answer: Answer  # the deterministic composition (the LLM backends' fallback)
    view: CatalogView


class Answerer:
    def __init__(
        self,
        embeddings: Embeddings,
        searcher: Searcher,
        chunks: ChunkSource,
        ranker: PassageRanker,
    ) -> None:
        self.planner = Planner(embeddings)
        self.executor = Executor(searcher, chunks, ranker)

    def run(
        self,
        message: str,
        history: list[Turn],
        explicit: Filters | None,
        view: CatalogView,
        k: int = 5,
    ) -> Outcome:
        earlier = [
            product_id
            for product_id in earlier_products(history, parse_citations)
            if product_id in view.products
        ]
        plan = self.planner.plan(message, history, view, explicit, k=k, earlier=earlier)
        execution = self.executor.run(plan, view)
        if plan.intent == "help":
            execution.examples = example_questions(view)
        return Outcome(plan, execution, compose(execution, view), view)

    def search(self, query: str, explicit: Filters | None, view: CatalogView, k: int) -> Execution:
        plan = self.planner.plan_search(query, view, explicit, k=k)
        return self.executor.run(plan, view)
