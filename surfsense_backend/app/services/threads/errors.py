from app.errors import Conflict, InvalidRequest


class ThreadExists(Conflict):
    def __init__(self, thread_id: object) -> None:
        super().__init__(f"Thread {thread_id} already exists.")


class InvalidThreadId(InvalidRequest):
    def __init__(self, thread_id: str) -> None:
        super().__init__(f"Thread id {thread_id!r} is not a UUID; threads here are identified by UUIDs.")


class InvalidStateUpdate(InvalidRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"The graph cannot take that state update: {reason}")
