"""Shoppers during an ingest that deletes, rewrites and reprices products: a real API process
ingests a new version of the catalog while shopper threads search for exactly the products it
deletes and changes. Every product a search returns must be one ``GET /v1/products/{id}``
serves, at the price the search showed; the only excuse is a race with the write itself, so a
miss is checked by searching again: a product still returned then is a fault."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DEMO_CATALOG, start_api, stop_process

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADMIN = "consistency-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN}"}


def _versions() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str], list[str]]:
    rows = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
    deleted = [str(row["id"]) for row in rows[::3]]  # a third of the catalog goes away
    v2 = []
    for n, row in enumerate(rows):
        if str(row["id"]) in deleted:
            continue
        changed = dict(row, price=round(float(row["price"]) * 0.9 + 0.01, 2))
        if n % 3 == 1:  # another third is rewritten (re-embedded)
            changed["description"] = f"Renewed edition. {row['description']}"
        v2.append(changed)
    queries = [str(row["title"]) for row in rows if str(row["id"]) in deleted][:40]
    return rows, v2, deleted, queries


def _wait_job(url: str, job_id: str, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(f"{url}/v1/ingest/{job_id}", headers=AUTH, timeout=30).json()
        if job["status"] in {"succeeded", "failed"}:
            return job
        time.sleep(0.3)
    raise TimeoutError(job_id)


def test_searches_during_an_ingest_never_return_what_products_cannot_serve(
    tmp_path: Path,
) -> None:
    v1, v2, deleted, queries = _versions()
    root = tmp_path / "root"
    root.mkdir()
    catalog = root / "products.json"
    catalog.write_text(json.dumps(v1), encoding="utf-8")
    env = {
        "AISLE_DATA_DIR": str(tmp_path / "data"),
        "AISLE_ADMIN_TOKEN": ADMIN,
        "AISLE_INGEST_ROOT": str(root),
        "AISLE_API__CATALOG_REFRESH_S": "0.2",
    }
    api, url = start_api(tmp_path, env, ready_path="/healthz")
    try:
        first = httpx.post(f"{url}/v1/ingest", json={"paths": ["products.json"]}, headers=AUTH)
        assert _wait_job(url, first.json()["job_id"])["counts"]["added"] == len(v1)
        catalog.write_text(json.dumps(v2), encoding="utf-8")

        counts: Counter[str] = Counter()
        faults: list[str] = []
        done = threading.Event()

        def shopper(offset: int) -> None:
            with httpx.Client(base_url=url, timeout=60) as client:
                n = offset
                while not done.is_set():
                    query = {"query": queries[n % len(queries)], "k": 5}
                    n += 1
                    results = client.post("/v1/search", json=query).json()["results"]
                    counts["searches"] += 1
                    for result in results:
                        counts["results"] += 1
                        served = client.get(f"/v1/products/{result['product_id']}")
                        if served.status_code == 200 and served.json()["price"] == result["price"]:
                            continue
                        counts["races"] += 1
                        again = client.post("/v1/search", json=query).json()["results"]
                        for repeat in again:
                            if repeat["product_id"] != result["product_id"]:
                                continue
                            check = client.get(f"/v1/products/{repeat['product_id']}")
                            if check.status_code != 200 or check.json()["price"] != repeat["price"]:
                                faults.append(f"{query['query']!r} -> {repeat}: {check.text[:200]}")

        shoppers = [threading.Thread(target=shopper, args=(n * 7,)) for n in range(3)]
        for thread in shoppers:
            thread.start()
        second = httpx.post(f"{url}/v1/ingest", json={"paths": ["products.json"]}, headers=AUTH)
        job = _wait_job(url, second.json()["job_id"])
        time.sleep(2)  # searches go on after the job, while the new generation is loaded
        done.set()
        for thread in shoppers:
            thread.join(120)

        print(f"\nduring the ingest: {dict(counts)}; job counts {job['counts']}")
        assert job["status"] == "succeeded" and job["counts"]["deleted"] == len(deleted)
        assert counts["searches"] >= 10 and counts["results"] > 0
        assert not faults, "\n".join(faults[:10])
        # After the job: no deleted product is found any more, by any query.
        for query in queries[:10]:
            results = httpx.post(f"{url}/v1/search", json={"query": query, "k": 10}).json()
            assert not {r["product_id"] for r in results["results"]} & set(deleted)
    finally:
        stop_process(api)
