"""POST /v1/search: products for a query, shopper constraints and explicit filters applied."""

from __future__ import annotations

from fastapi import APIRouter

from catalog.store import StoreError
from service.deps import CatalogDep
from service.errors import ServiceUnavailable
from service.schemas import ErrorResponse, SearchRequest, SearchResponse, SearchResult

router = APIRouter(prefix="/v1", tags=["search"])


@router.post(
    "/search",
    response_model=SearchResponse,
    responses={503: {"model": ErrorResponse, "description": "The store is unavailable."}},
)
def search(body: SearchRequest, catalog: CatalogDep) -> SearchResponse:
    # A plain def: FastAPI runs it in its thread pool (embedding and Chroma calls block).
    try:
        ctx = catalog.retriever().retrieve(body.query, [], body.filters, body.k)
    except StoreError as exc:
        raise ServiceUnavailable(str(exc), code="store_unavailable") from exc
    results = []
    for hit in ctx.hits:
        meta = hit.metadata
        results.append(
            SearchResult(
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
        )
    return SearchResponse(
        results=results, filters=ctx.filters.model_dump(exclude_none=True), relaxed=ctx.relaxed
    )
