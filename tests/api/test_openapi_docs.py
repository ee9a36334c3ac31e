"""/docs must work offline: the page and every asset it loads come from this server."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_docs_reference_no_external_host(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    page = response.text
    assert "swagger-ui" in page.lower()
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page)
    urls += re.findall(r"""url\s*:\s*["']([^"']+)["']""", page)
    assert urls, page
    for url in urls:
        assert not re.match(r"^(https?:)?//", url), f"/docs loads {url} from another host"
    assert "cdn.jsdelivr" not in page and "unpkg" not in page


def test_docs_assets_are_served_locally(client: TestClient) -> None:
    page = client.get("/docs").text
    assets = re.findall(r"""(?:src|href)\s*=\s*["'](/[^"']+)["']""", page)
    assert any(asset.endswith(".js") for asset in assets)
    assert any(asset.endswith(".css") for asset in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 100, asset
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert "/v1/chat" in spec.json()["paths"]
