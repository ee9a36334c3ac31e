"""GET /v1/facets: what a UI needs to offer filters, backends and example questions."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import BackendsDep, CatalogDep
from service.schemas import FacetsResponse

router = APIRouter(prefix="/v1", tags=["catalog"])


@router.get("/facets", response_model=FacetsResponse)
def facets(catalog: CatalogDep, backends: BackendsDep) -> FacetsResponse:
    return FacetsResponse(
        **catalog.facets(), backends=backends.available, default_backend=backends.default
    )
