"""POST /v1/search: products for a query, shopper constraints and explicit filters applied."""

from __future__ import annotations

from fastapi import APIRouter

from catalog.models import ProductHit
from catalog.store import StoreError
from service.deps import CatalogDep, SettingsDep
from service.errors import InvalidRequest, ServiceUnavailable
from service.schemas import (
    ErrorResponse,
    SearchRequest,
    SearchResponse,
    SearchResult,
    check_text_limits,
)

router = APIRouter(prefix="/v1", tags=["search"])


@router.post(
    "/search",
    response_model=SearchResponse,
    responses={503: {"model": ErrorResponse, "description": "The store is unavailable."}},
)
def search(body: SearchRequest, catalog: CatalogDep, settings: SettingsDep) -> SearchResponse:
    # A plain def: FastAPI runs it in its thread pool (embedding and Chroma calls block).
    problems = check_text_limits(settings.api, query=body.query, filters=body.filters)
    if problems:
        raise InvalidRequest("; ".join(problems), code="too_long")
    try:
        if body.retriever != "hybrid":
            # One retriever alone (or the bare fusion) for evaluation: no planning.
            mode = "hybrid" if body.retriever == "fused" else body.retriever
            hits = catalog.searcher().search(body.query, body.k, body.filters, retriever=mode)
            return SearchResponse(
                results=[_result(hit) for hit in hits],
                filters=body.filters.model_dump(exclude_none=True) if body.filters else {},
            )
        answerer, view = catalog.answering()
        found = answerer.search(body.query, body.filters, view, body.k)
    except StoreError as exc:
        raise ServiceUnavailable(str(exc), code="store_unavailable") from exc
    results = [_result(hit) for hit in found.hits]
    return SearchResponse(
        results=results,
        filters=found.plan.filters.model_dump(exclude_none=True),
        relaxed=found.relaxed,
        plan=found.plan.to_dict(),
    )


def _result(hit: ProductHit) -> SearchResult:
    meta = hit.metadata
    return SearchResult(
        product_id=hit.product_id,
        title=hit.title,
        price=meta.get("price"),
        brand=meta.get("brand"),
        category=meta.get("category"),
        in_stock=meta.get("in_stock"),
        rating=meta.get("rating"),
        score=hit.score,
        snippet=hit.snippet[:300],
    )
