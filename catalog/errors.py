"""The catalog side's one error: the vector store cannot be reached or refused an operation."""


class StoreError(RuntimeError):
    """The vector store cannot be reached or refused an operation."""
