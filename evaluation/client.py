"""The few calls the evaluation makes to the Aisle API, over plain HTTP: it never imports the
service, so it sees exactly what a shopper's client sees."""

from __future__ import annotations

import time
from typing import Any

import httpx


class ApiUnavailableError(RuntimeError):
    """The API did not answer at all (wrong URL, not running)."""


class EvalClient:
    """The few API calls the harness needs, with the product records it fetched cached."""

    def __init__(self, api_url: str, *, timeout: float = 180.0, api_key: str | None = None):
        headers = {"X-API-Key": api_key} if api_key else {}
        self._http = httpx.Client(base_url=api_url.rstrip("/"), timeout=timeout, headers=headers)
        self._records: dict[str, dict[str, Any] | None] = {}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EvalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self) -> None:
        try:
            response = self._http.get("/healthz", timeout=10.0)
        except httpx.HTTPError as exc:
            raise ApiUnavailableError(f"{self._http.base_url} is not answering: {exc}") from None
        if response.status_code != 200:
            raise ApiUnavailableError(f"{self._http.base_url}/healthz: HTTP {response.status_code}")

    def default_backend(self) -> str:
        """The backend the API answers with when a request names none ("default" if unknown)."""
        try:
            response = self._http.get("/v1/facets", timeout=30.0)
            name = response.json().get("default_backend") if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            name = None
        return str(name) if name else "default"

    def post(
        self, path: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, float, str | None]:
        """(JSON body or None, wall-clock ms, error message or None)."""
        start = time.perf_counter()
        try:
            response = self._http.post(path, json=body)
        except httpx.HTTPError as exc:
            return None, (time.perf_counter() - start) * 1000, f"{type(exc).__name__}: {exc}"
        elapsed = (time.perf_counter() - start) * 1000
        try:
            data = response.json()
        except ValueError:
            return None, elapsed, f"HTTP {response.status_code}: not JSON"
        if response.status_code >= 400:
            error = data.get("error", {}) if isinstance(data, dict) else {}
            return (
                None,
                elapsed,
                f"HTTP {response.status_code}: {error.get('code')}: {error.get('message')}",
            )
        return data, elapsed, None

    def record(self, product_id: str) -> dict[str, Any] | None:
        """The stored product record, or None when the API says it does not exist."""
        if product_id not in self._records:
            try:
                response = self._http.get(f"/v1/products/{product_id}")
                self._records[product_id] = response.json() if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                self._records[product_id] = None
        return self._records[product_id]
