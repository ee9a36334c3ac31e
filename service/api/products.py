"""GET /v1/products/{product_id}: the stored product record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.deps import CatalogDep
from service.errors import NotFound
from service.schemas import ErrorResponse

router = APIRouter(prefix="/v1", tags=["catalog"])


@router.get(
    "/products/{product_id}",
    responses={404: {"model": ErrorResponse, "description": "No such product."}},
)
def get_product(product_id: str, catalog: CatalogDep) -> dict[str, Any]:
    record = catalog.get_product(product_id)
    if record is None:
        raise NotFound(f"no product {product_id!r} in the catalog")
    return record
