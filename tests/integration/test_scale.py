"""Chroma server mode as the way to scale: two API processes that share nothing but one real
``chroma run`` server (each has its own data dir) while one of them ingests through the
operator API. Both keep answering without a 5xx; the other refuses a second job (409: the
lock is in the store) and reports the job (its record is in the store); afterwards both serve
the same results, the other having rebuilt its keyword index when the generation changed."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO_CATALOG, stop_process
from tests.conftest import start_api as conftest_start_api

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADMIN = "scale-admin-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
NEW_PRODUCT = {
    "id": "scale-kettle-1",
    "title": "Aurora Gooseneck Kettle",
    "description": "A gooseneck kettle with a built-in thermometer for pour-over coffee.",
    "category": "kitchen-accessories",
    "brand": "Aurora",
    "price": 48.0,
    "stock": 9,
    "rating": 4.6,
}


def start_api(work: Path, env: dict[str, str], name: str = "api") -> tuple[subprocess.Popen, str]:
    return conftest_start_api(work, env, name, ready_path="/readyz")


def test_two_api_processes_share_one_chroma_server_during_an_ingest(
    chroma_server: str, embeddings, tmp_path: Path
) -> None:
    from catalog.store import ProductStore
    from ingestion.pipeline import ingest_files

    collection = f"scale-{uuid.uuid4().hex[:8]}"  # the Chroma server is shared by the session
    root = tmp_path / "root"
    root.mkdir()
    demo = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
    (root / "first.json").write_text(json.dumps(demo[:30]), encoding="utf-8")
    (root / "second.json").write_text(json.dumps([*demo[30:100], NEW_PRODUCT]), encoding="utf-8")

    store = ProductStore.open(chroma_url=chroma_server, data_dir=None, collection=collection)
    first = ingest_files([root / "first.json"], store=store, embeddings=embeddings)
    assert first.added == 30

    env = {
        "AISLE_CHROMA_URL": chroma_server,
        "AISLE_COLLECTION": collection,
        "AISLE_ADMIN_TOKEN": ADMIN,
        "AISLE_INGEST_ROOT": str(root),
        "AISLE_API__CATALOG_REFRESH_S": "0.5",
    }
    processes: list[subprocess.Popen] = []
    urls: list[str] = []
    try:
        for name in ("a", "b"):
            own = {**env, "AISLE_DATA_DIR": str(tmp_path / f"data-{name}")}  # nothing shared
            process, url = start_api(tmp_path, own, name)
            processes.append(process)
            urls.append(url)
        for url in urls:
            assert httpx.get(f"{url}/v1/products/{NEW_PRODUCT['id']}").status_code == 404

        accepted = httpx.post(f"{urls[0]}/v1/ingest", json={"paths": ["second.json"]}, headers=AUTH)
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["job_id"]
        # The job lock lives in the store: the other replica refuses a second job.
        conflict = httpx.post(f"{urls[1]}/v1/ingest", json={"paths": ["first.json"]}, headers=AUTH)
        assert conflict.status_code == 409, conflict.text
        assert job_id in conflict.json()["error"]["message"]
        # Either replica can report the job (records live in the store).
        assert httpx.get(f"{urls[1]}/v1/ingest/{job_id}", headers=AUTH).status_code == 200

        statuses: Counter[tuple[str, int]] = Counter()
        done = threading.Event()

        def shopper(url: str, n: int) -> None:
            with httpx.Client(base_url=url, timeout=60) as client:
                i = 0
                while not done.is_set() or i < 3:
                    i += 1
                    if (n + i) % 3 == 0:
                        response = client.post("/v1/chat", json={"message": "mascara under $20"})
                    elif (n + i) % 3 == 1:
                        response = client.post("/v1/search", json={"query": "perfume", "k": 3})
                    else:
                        response = client.get("/v1/products/5")
                    statuses[(url, response.status_code)] += 1

        shoppers = [
            threading.Thread(target=shopper, args=(url, n)) for n in range(3) for url in urls
        ]
        for thread in shoppers:
            thread.start()
        deadline = time.monotonic() + 240
        job: dict = {}
        while time.monotonic() < deadline:
            job = httpx.get(f"{urls[1]}/v1/ingest/{job_id}", headers=AUTH).json()
            if job["status"] in {"succeeded", "failed"}:
                break
            time.sleep(0.3)
        done.set()
        for thread in shoppers:
            thread.join(120)

        assert job["status"] == "succeeded", job
        assert job["counts"]["added"] == 71 and job["counts"]["failed"] == 0
        print(f"\nrequests served during the ingest: {dict(statuses)}")
        assert {status for _, status in statuses} == {200}, statuses
        for url in urls:
            assert sum(n for (u, _), n in statuses.items() if u == url) >= 3

        # Both replicas see the new data: the record, dense and keyword search, facets. The
        # other replica notices the new generation within its refresh interval.
        generation = store.generation().id
        for url in urls:
            deadline = time.monotonic() + 60
            while httpx.get(f"{url}/readyz").json().get("generation") != generation:
                assert time.monotonic() < deadline, f"{url} never loaded generation {generation}"
                time.sleep(0.3)
        rare = {"query": "thermometer gooseneck", "k": 5}
        answers = [httpx.post(f"{url}/v1/search", json=rare).json()["results"] for url in urls]
        assert answers[0] == answers[1]  # the same results from both replicas
        for url in urls:
            record = httpx.get(f"{url}/v1/products/{NEW_PRODUCT['id']}")
            assert record.status_code == 200 and record.json()["title"] == NEW_PRODUCT["title"]
            hits = httpx.post(
                f"{url}/v1/search", json={"query": "gooseneck kettle thermometer", "k": 3}
            ).json()["results"]
            assert hits[0]["product_id"] == NEW_PRODUCT["id"], (url, hits)
            assert httpx.get(f"{url}/readyz").json()["products"] == 101
            brands = {b["name"] for b in httpx.get(f"{url}/v1/facets").json()["brands"]}
            assert "Aurora" in brands
    finally:
        for process in processes:
            stop_process(process)
