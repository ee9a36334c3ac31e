"""Property-based fuzzing of the app against its own OpenAPI schema (schemathesis 4).

Every operation gets a fixed budget of generated requests, valid and invalid, drawn at random
each run (``FUZZ_EXAMPLES`` per operation and mode, default 50); the seed is printed, and
``FUZZ_SEED=<seed>`` replays a run. The app must never answer 5xx and every response
must match what the schema documents (status codes, content types, bodies). The operator API
is fuzzed with the admin token on a copy of the demo store, so its jobs cannot disturb other
tests.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from aisle.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADMIN = "schemathesis-admin-token-0123456789"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))  # per operation and mode
SEED = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def api_schema(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    from service.app import create_app

    work = tmp_path_factory.mktemp("fuzz")
    data_dir = work / "data"
    shutil.copytree(demo_data_dir, data_dir)
    root = work / "root"
    root.mkdir()
    (root / "small.json").write_text(
        '[{"id": 7001, "title": "Fuzzing Mug", "price": 5, "category": "kitchen"}]',
        encoding="utf-8",
    )
    app_settings = load_settings(
        _env_file=None,
        data_dir=data_dir,
        admin_token=ADMIN,
        ingest_root=root,
        api={"max_upload_bytes": 200_000},
    )
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(app_settings))


def _fuzz(operation, mode: GenerationMode) -> list[str]:
    failures: list[str] = []

    @seed(SEED)
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, don't minimise
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        try:
            case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN}"}, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # collect all, keep fuzzing the rest
            failures.append(f"{operation.label} [{mode.value}]: {exc}"[:2000])

    try:
        run()
    except Unsatisfiable:  # nothing invalid can be sent (an operation without inputs)
        assert mode is GenerationMode.NEGATIVE, operation.label
    return failures


def test_api_conforms_to_its_schema(api_schema) -> None:
    print(f"\nschemathesis: {EXAMPLES} examples per operation and mode, FUZZ_SEED={SEED}")
    operations = [result.ok() for result in api_schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {"POST /v1/search", "POST /v1/chat", "POST /v1/ingest", "GET /metrics"} <= labels
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _fuzz(operation, mode)
    assert not failures, f"replay with FUZZ_SEED={SEED}\n\n" + "\n\n".join(failures[:10])
