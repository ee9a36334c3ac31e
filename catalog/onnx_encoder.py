"""Run an exported sentence graph in ONNX Runtime, tokenised with the model's fast tokenizer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from catalog.onnx_export import ExportedModel


def _session(model_file: str, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle worker threads spin by default, burning the core a concurrent query needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model_file, options, providers=["CPUExecutionProvider"])


class OnnxEncoder:
    """Normalised sentence vectors from an :class:`ExportedModel`.

    Two sessions share the graph: ``bulk`` (ingest batches, ``bulk_threads``) and ``query``
    (one short text, ``query_threads``: more threads only add hand-off cost for a few tokens).
    Both may run at once; ONNX Runtime sessions are thread-safe.
    """

    def __init__(self, exported: ExportedModel, *, bulk_threads: int, query_threads: int) -> None:
        from tokenizers import Tokenizer

        self.exported = exported
        tokenizer = Tokenizer.from_file(str(exported.tokenizer_file))
        # tokenizer.json carries its own truncation (128) and fixed padding: replace both with
        # what sentence-transformers does (max_seq_length, pad to the longest of the batch).
        tokenizer.no_truncation()
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=exported.max_seq_length)
        tokenizer.enable_padding(pad_id=exported.pad_id, pad_token=exported.pad_token)
        self._tokenizer = tokenizer
        self._bulk = _session(str(exported.model_file), bulk_threads)
        self._query = (
            self._bulk
            if query_threads == bulk_threads
            else _session(str(exported.model_file), query_threads)
        )
        self._inputs = {item.name for item in self._bulk.get_inputs()}

    def tokenize(self, texts: list[str]) -> dict[str, np.ndarray]:
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=True)
        ids = np.asarray([item.ids for item in encodings], dtype=np.int64)
        feed = {
            "input_ids": ids,
            "attention_mask": np.asarray([item.attention_mask for item in encodings], np.int64),
            "token_type_ids": np.asarray([item.type_ids for item in encodings], np.int64),
        }
        return {name: value for name, value in feed.items() if name in self._inputs}

    def encode(self, texts: list[str], *, query: bool = False) -> np.ndarray:
        """One batch of texts (the caller sorts by length to keep padding low)."""
        if not texts:
            return np.zeros((0, self.exported.dimension), dtype=np.float32)
        session = self._query if query else self._bulk
        (vectors,) = session.run(["sentence_embedding"], self.tokenize(texts))
        return np.asarray(vectors, dtype=np.float32)
