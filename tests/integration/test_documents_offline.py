"""Documents (Markdown, HTML, TXT, PDF) load and ingest with networking really disabled.

unstructured's default parsers download a spaCy model on first use; ours must not try. The
in-process tests make every socket connection and DNS lookup fail (and record them); the
subprocess test runs the loader in a fresh network namespace (``unshare -n``).
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.models import ChunkKind
from catalog.store import ProductStore
from ingestion.loaders import load_path
from ingestion.pipeline import ingest_files
from tests.conftest import DEMO_CATALOG, ROOT

pytestmark = pytest.mark.integration


def make_pdf(path: Path, lines: list[str], info: dict[str, str]) -> Path:
    """A one-page PDF with real text (Helvetica), written by hand, metadata added by pypdf."""
    from pypdf import PdfReader, PdfWriter

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(f"({escape(x)}) '" for x in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    body += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(body)).pages:
        writer.add_page(page)
    writer.add_metadata({f"/{key}": value for key, value in info.items()})
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def write_documents(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mascara-guide.md").write_text(
        "---\nproduct_id: '1'\n---\n# Lash Princess guide\n\n"
        "Apply two coats of the mascara and let each dry for thirty seconds.\n"
    )
    (folder / "tent.html").write_text(
        '<html><head><title>Storm Tent</title><meta name="product_id" content="tent-9">'
        '<meta name="price" content="199.0"></head><body><h1>Storm Tent</h1>'
        "<p>The tent sleeps four people and withstands strong gales.</p></body></html>"
    )
    (folder / "kettle-care.txt").write_text(
        "Kettle care\n\nDescale the kettle monthly using white vinegar.\n"
    )
    make_pdf(
        folder / "drill.pdf",
        ["Cordless drill manual", "Charge the battery for three hours before first use."],
        {"Title": "Cordless Drill", "ProductId": "drill-7"},
    )
    return folder


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every outgoing connection and DNS lookup fails; the attempts are recorded."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args[1:] if args and isinstance(args[0], socket.socket) else args)
        raise OSError("network disabled by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts


def test_every_document_kind_loads_without_network(tmp_path: Path, no_network: list[Any]) -> None:
    folder = write_documents(tmp_path / "docs")
    loaded = {path.suffix: load_path(path) for path in sorted(folder.iterdir())}

    md = loaded[".md"].products[0]
    assert md.product.product_id == "1" and md.product.title == "Lash Princess guide"
    assert "two coats of the mascara" in md.documents[0].text
    html = loaded[".html"].products[0]
    assert (html.product.product_id, html.product.title, html.product.price) == (
        "tent-9",
        "Storm Tent",
        199.0,
    )
    assert "sleeps four people" in html.documents[0].text
    txt = loaded[".txt"].products[0]
    assert txt.product.product_id == "kettle-care" and "white vinegar" in txt.documents[0].text
    pdf = loaded[".pdf"].products[0]
    assert (pdf.product.product_id, pdf.product.title) == ("drill-7", "Cordless Drill")
    assert "Charge the battery for three hours" in pdf.documents[0].text
    assert all(result.errors == [] for result in loaded.values())

    assert no_network == []  # nothing even tried: no model download, no analytics ping
    import unstructured.nlp.tokenize as nlp  # imported only now: the loader opts out first

    assert nlp._get_nlp.cache_info().misses == 0  # the spaCy pipeline was never needed


def test_documents_ingest_offline_beside_the_catalog(
    make_settings: Any, embeddings: Any, tmp_path: Path, no_network: list[Any]
) -> None:
    folder = write_documents(tmp_path / "docs")
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(json.loads(DEMO_CATALOG.read_text())[:3]))
    settings = make_settings()
    store = ProductStore.open(chroma_url="", data_dir=settings.data_dir, collection="products")

    def ingest(*paths: Path) -> Any:
        return ingest_files(list(paths), store=store, embeddings=embeddings)

    summary = ingest(catalog, folder)
    assert (summary.added, summary.failed) == (6, 0)  # 3 catalog products + 3 from documents
    mascara = {chunk.chunk_id: chunk for chunk in store.product_chunks("1")}
    document = mascara["1::document::0"]
    assert document.metadata["source"] == str((folder / "mascara-guide.md").resolve())
    assert mascara["1::core::0"].metadata["source"] == str(catalog.resolve())
    assert document.metadata["price"] == 9.99  # the catalog's facts apply to its document
    assert "two coats" in document.text
    drill = store.get_product("drill-7")
    assert drill is not None and drill["title"] == "Cordless Drill"
    kinds = {chunk.metadata["kind"] for chunk in store.product_chunks("drill-7")}
    assert kinds == {ChunkKind.CORE.value, ChunkKind.DOCUMENT.value}

    assert ingest(catalog, folder).unchanged == 6
    # A run without the guide defines product 1 without it: its document chunk goes.
    again = ingest(catalog)
    assert again.updated == 1 and "1::document::0" not in {
        chunk.chunk_id for chunk in store.product_chunks("1")
    }
    # The guide alone joins the stored catalog product instead of replacing it.
    alone = ingest(folder / "mascara-guide.md")
    assert (alone.updated, alone.added, alone.deleted, alone.chunks_embedded) == (1, 0, 0, 1)
    mascara = {chunk.chunk_id: chunk for chunk in store.product_chunks("1")}
    assert set(mascara) == {"1::core::0", "1::specs::0", "1::reviews::0", "1::document::0"}
    assert mascara["1::core::0"].metadata["source"] == str(catalog.resolve())
    assert mascara["1::core::0"].text.startswith("Essence Mascara Lash Princess")
    assert no_network == []


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs unshare -n (root or user namespaces)")
def test_loader_in_a_process_without_any_network(tmp_path: Path) -> None:
    folder = write_documents(tmp_path / "docs")
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from ingestion.loaders import load_path\n"
        "out = {}\n"
        "for path in sorted(Path(sys.argv[1]).iterdir()):\n"
        "    result = load_path(path)\n"
        "    out[path.name] = [[p.product.product_id, p.documents[0].text] for p in "
        "result.products]\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", script, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert [ids[0][0] for _, ids in sorted(out.items())] == [
        "drill-7",
        "kettle-care",
        "1",
        "tent-9",
    ]
    assert "white vinegar" in out["kettle-care.txt"][0][1]
