"""GET /v1/products/{product_id}: the stored product record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from service.deps import CatalogDep
from service.errors import NotFound
from service.schemas import ErrorResponse

router = APIRouter(prefix="/v1", tags=["catalog"])


@router.get(
    "/products/{product_id}",
    responses={404: {"model": ErrorResponse, "description": "No such product."}},
)
def get_product(
    product_id: Annotated[str, Path(min_length=1, max_length=512)], catalog: CatalogDep
) -> dict[str, Any]:
    record = catalog.get_product(product_id)
    if record is None:
        raise NotFound(f"no product {product_id!r} in the catalog")
    return record
