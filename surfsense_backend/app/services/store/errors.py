from app.errors import AppError, InvalidRequest, NotFound


class InvalidStoreInput(InvalidRequest):
    """A namespace, key, value, filter or bound the store refuses, with its cause (422)."""


class StoreUnavailable(AppError):
    """The app runs without a durable database for agent state (PERSISTENCE_ENABLE_CHECKPOINTING=false)."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__("Long-term memory is off: the app keeps agent state in memory only.")


class MemoryNotFound(NotFound):
    def __init__(self, namespace: list[str], key: str) -> None:
        super().__init__(f"No memory {key!r} in namespace {namespace!r}.")
