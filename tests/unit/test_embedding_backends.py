"""Embedding backends without running a model: settings, the backend record on a real embedded
Chroma, the export cache's naming and pipeline checks, and the query-first gate."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from aisle.settings import EmbeddingSettings, Settings, SettingsError, load_settings
from catalog.embedding_gate import MAX_YIELD_S, PriorityGate
from catalog.embedding_record import (
    RECORD_KEY,
    EmbeddingMismatchError,
    check_embedding_record,
    record_embedding,
)
from catalog.embeddings import DEFAULT_BACKEND, LocalEmbeddings, build_embeddings, model_dir
from catalog.errors import StoreError
from catalog.models import Chunk, ChunkKind
from catalog.onnx_export import ExportError, _pipeline_config, export_folder, source_digest
from catalog.store import ProductStore

# -- settings ----------------------------------------------------------------------------------


def test_backend_setting_defaults_and_env(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert make_settings().embedding.backend == DEFAULT_BACKEND == "onnx-int8"
    monkeypatch.setenv("AISLE_EMBEDDING__BACKEND", "torch")
    monkeypatch.setenv("AISLE_EMBEDDING__THREADS", "2")
    settings = make_settings()
    assert settings.embedding.backend == "torch"
    assert settings.embedding.threads == 2


def test_unknown_backend_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISLE_EMBEDDING__BACKEND", "openvino")
    with pytest.raises(SettingsError, match="AISLE_EMBEDDING__BACKEND"):
        load_settings(_env_file=None)


def test_build_embeddings_caches_exports_under_the_data_dir(tmp_path: Path) -> None:
    built = build_embeddings(EmbeddingSettings(backend="onnx", threads=3), tmp_path)
    assert built.backend == "onnx"
    assert built.cache_dir == tmp_path / "models"
    assert built.threads == 3 and built.query_threads == 1
    other = build_embeddings(EmbeddingSettings(cache_dir=tmp_path / "elsewhere"), tmp_path)
    assert other.cache_dir == tmp_path / "elsewhere"
    with pytest.raises(ValueError, match="unknown embedding backend"):
        LocalEmbeddings(backend="tensorflow")  # type: ignore[arg-type]


# -- the backend record ------------------------------------------------------------------------


def _store(tmp_path: Path) -> ProductStore:
    return ProductStore.open(chroma_url="", data_dir=tmp_path, collection="records")


def _one_chunk(store: ProductStore) -> None:
    chunk = Chunk(
        chunk_id="p1::core::0",
        product_id="p1",
        kind=ChunkKind.CORE,
        text="A red lipstick",
        metadata={"source": "x.json"},
        content_hash="c",
        meta_hash="m",
    )
    store.upsert([chunk], [[1.0] + [0.0] * 383])


def test_matching_or_empty_collections_pass(tmp_path: Path) -> None:
    store = _store(tmp_path)
    int8 = LocalEmbeddings(backend="onnx-int8")
    check_embedding_record(store, int8)  # empty, no record
    record_embedding(store, int8)
    assert store.meta.get(RECORD_KEY) == {
        "model": "all-MiniLM-L6-v2",
        "backend": "onnx-int8",
        "dimension": 384,
    }
    _one_chunk(store)
    check_embedding_record(store, LocalEmbeddings(backend="onnx-int8"))


@pytest.mark.parametrize(("stored", "ours"), [("onnx-int8", "onnx"), ("onnx", "torch")])
def test_another_backend_is_a_clear_error(tmp_path: Path, stored: str, ours: str) -> None:
    store = _store(tmp_path)
    record_embedding(store, LocalEmbeddings(backend=stored))  # type: ignore[arg-type]
    _one_chunk(store)
    with pytest.raises(EmbeddingMismatchError) as caught:
        check_embedding_record(store, LocalEmbeddings(backend=ours))  # type: ignore[arg-type]
    message = str(caught.value)
    assert isinstance(caught.value, StoreError)  # the service maps it to a 503
    assert f"AISLE_EMBEDDING__BACKEND={stored}" in message
    assert f"AISLE_EMBEDDING__BACKEND={ours}" in message and "re-ingest" in message


def test_an_emptied_collection_may_change_backend(tmp_path: Path) -> None:
    store = _store(tmp_path)
    record_embedding(store, LocalEmbeddings(backend="torch"))
    check_embedding_record(store, LocalEmbeddings(backend="onnx-int8"))  # no vectors to mix


def test_a_collection_without_record_was_written_by_torch(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _one_chunk(store)  # as every version before issue 14 left it
    check_embedding_record(store, LocalEmbeddings(backend="torch"))
    with pytest.raises(EmbeddingMismatchError, match="torch"):
        check_embedding_record(store, LocalEmbeddings(backend="onnx-int8"))


def test_other_model_or_dimension_is_a_mismatch(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _one_chunk(store)
    store.meta.put(RECORD_KEY, {"model": "bge-small", "backend": "torch", "dimension": 384})
    with pytest.raises(EmbeddingMismatchError, match="bge-small"):
        check_embedding_record(store, LocalEmbeddings(backend="torch"))


# -- export cache --------------------------------------------------------------------------------


def _copy_configs(target: Path) -> Path:
    source = model_dir()
    for name in ("modules.json", "sentence_bert_config.json", "tokenizer_config.json"):
        shutil.copy(source / name, target / name)
    shutil.copy(source / "config.json", target / "config.json")
    (target / "1_Pooling").mkdir()
    shutil.copy(source / "1_Pooling" / "config.json", target / "1_Pooling" / "config.json")
    return target


def test_pipeline_config_matches_sentence_transformers() -> None:
    config = _pipeline_config(model_dir())
    # 256 from sentence_bert_config.json: not tokenizer.json's 128, nor the tokenizer's 512.
    assert config == {
        "pooling": "mean",
        "normalize": True,
        "max_seq_length": 256,
        "dimension": 384,
        "pad_token": "[PAD]",
    }


def test_unsupported_pooling_is_refused(tmp_path: Path) -> None:
    folder = _copy_configs(tmp_path)
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    pooling.write_text(json.dumps(config))
    with pytest.raises(ExportError, match="pooling_mode_max_tokens"):
        _pipeline_config(folder)


def test_cache_folder_follows_every_source_byte(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    folder = _copy_configs(tmp_path / "model")
    first = export_folder(tmp_path / "cache", "m", "onnx-int8", folder)
    assert first.parent == tmp_path / "cache"
    assert first.name.startswith("m-onnx-int8-") and len(first.name) == len("m-onnx-int8-") + 16
    assert export_folder(tmp_path / "cache", "m", "onnx", folder).name.startswith("m-onnx-")
    (folder / "README.md").write_text("docs do not change vectors")
    source_digest.cache_clear()
    assert export_folder(tmp_path / "cache", "m", "onnx-int8", folder) == first
    config = folder / "sentence_bert_config.json"
    config.write_text(config.read_text().replace("256", "128"))
    source_digest.cache_clear()
    assert export_folder(tmp_path / "cache", "m", "onnx-int8", folder) != first


# -- the query-first gate ----------------------------------------------------------------------


def _in_thread(call: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def test_exclusive_gate_runs_a_waiting_query_before_the_next_batch() -> None:
    gate = PriorityGate(exclusive=True)
    order: list[str] = []
    first_batch_running = threading.Event()
    release_first = threading.Event()

    def ingest() -> None:
        for n in range(2):
            with gate.bulk():
                order.append(f"batch {n}")
                if n == 0:
                    first_batch_running.set()
                    release_first.wait(5)

    def query() -> None:
        with gate.query():
            order.append("query")

    ingesting = _in_thread(ingest)
    assert first_batch_running.wait(5)
    asking = _in_thread(query)
    time.sleep(0.1)
    assert order == ["batch 0"]  # the query waits for the batch under way, no longer
    release_first.set()
    asking.join(5)
    ingesting.join(5)
    assert order == ["batch 0", "query", "batch 1"]


def test_shared_gate_lets_a_query_run_beside_a_batch() -> None:
    gate = PriorityGate(exclusive=False)
    inside = threading.Event()
    release = threading.Event()

    def ingest() -> None:
        with gate.bulk():
            inside.set()
            release.wait(10)

    ingesting = _in_thread(ingest)
    assert inside.wait(5)
    with gate.query():  # would deadlock (until the 10 s wait) if queries waited for batches
        batch_still_running = not release.is_set() and ingesting.is_alive()
    release.set()
    ingesting.join(5)
    assert batch_still_running


def test_a_constant_query_load_does_not_stop_ingest() -> None:
    gate = PriorityGate(exclusive=False)
    stop = threading.Event()
    entered = threading.Event()

    def busy_queries() -> None:
        while not stop.is_set():
            with gate.query():
                time.sleep(0.01)

    def ingest() -> None:
        with gate.bulk():
            entered.set()

    shoppers = [_in_thread(busy_queries) for _ in range(3)]
    time.sleep(0.05)
    _in_thread(ingest)
    # Queries never stop, yet the batch gets in (after yielding MAX_YIELD_S at most).
    assert entered.wait(MAX_YIELD_S + 10)
    stop.set()
    for thread in shoppers:
        thread.join(5)
