from app.errors import AppError, Forbidden, InvalidRequest, NotFound, first_line


class InvalidStoreInput(InvalidRequest):
    """A namespace, key, value, filter or bound the store refuses, with its cause (422)."""


class SharedNamespaceReadOnly(Forbidden):
    """A put or delete by a user or a graph in a namespace of the app's (403):
    users read those items; only the operator writes them."""

    def __init__(self, namespace: tuple[str, ...]) -> None:
        super().__init__(
            f"The namespace {list(namespace)!r} is the app's (STORE_SHARED_NAMESPACES): "
            "it is read-only; its items are written with `surfsense-db store-load`."
        )


class NotShared(InvalidStoreInput):
    """The operator loading items into a namespace the app does not share."""

    def __init__(self, namespace: tuple[str, ...], shared: frozenset[str]) -> None:
        listed = ", ".join(sorted(shared)) or "none"
        super().__init__(
            f"The namespace {list(namespace)!r} is not one of the app's: "
            f"its first label must be in STORE_SHARED_NAMESPACES (now: {listed})."
        )


class StoreUnavailable(AppError):
    """The app runs without a durable database for agent state (PERSISTENCE_ENABLE_CHECKPOINTING=false)."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__("Long-term memory is off: the app keeps agent state in memory only.")


class EmbeddingFailed(AppError):
    """The embedding model's provider failed: the put or search is not done."""

    status_code = 502

    def __init__(self, exc: Exception) -> None:
        # Capped, as a run's model failure is: the provider's sentence, not a traceback.
        super().__init__(f"The embedding model failed: {type(exc).__name__}: {first_line(exc)[:300]}")


class VectorsMismatch(RuntimeError):
    """The vector table holds vectors of another size than the model makes:
    the app refuses to start rather than rank by a wrong distance."""

    def __init__(self, stored: int, made: int) -> None:
        super().__init__(
            f"store_vectors holds {stored}-dimension vectors and the embedding model makes {made}: "
            "run `surfsense-db store-reindex` to embed the items again with this model, "
            "or set STORE_EMBEDDINGS=none"
        )


class ModelMismatch(VectorsMismatch, AppError):
    """The model answered with vectors of another size than it is configured to
    make: on a put or search, 502, as the model's answer is what is wrong."""

    status_code = 502

    def __init__(self, configured: int, made: int) -> None:
        RuntimeError.__init__(
            self,
            f"the embedding model makes {made}-dimension vectors, not the {configured} configured "
            "(STORE_EMBEDDINGS_DIMS, or store.index.dims in langgraph.json)",
        )


class MemoryNotFound(NotFound):
    def __init__(self, namespace: list[str], key: str) -> None:
        super().__init__(f"No memory {key!r} in namespace {namespace!r}.")
