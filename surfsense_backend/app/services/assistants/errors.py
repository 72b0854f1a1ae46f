from app.errors import AppError, Conflict, InvalidRequest, NotFound


class AssistantNotFound(NotFound):
    def __init__(self, assistant_id: object = None) -> None:
        # No id: found gone by a write that referred to it (app.services.integrity).
        if assistant_id is None:
            super().__init__("The assistant was deleted while this request was served.")
        else:
            super().__init__(f"Assistant {assistant_id} was not found.")


class VersionNotFound(NotFound):
    def __init__(self, assistant_id: object, version: int) -> None:
        super().__init__(f"Assistant {assistant_id} has no version {version}.")


class AssistantExists(Conflict):
    def __init__(self, assistant_id: object) -> None:
        super().__init__(f"Assistant {assistant_id} already exists.")


class SystemAssistantReadOnly(Conflict):
    """The graphs of `langgraph.json` are everyone's: configured by making an assistant of one."""

    def __init__(self, assistant_id: str) -> None:
        super().__init__(
            f"The assistant {assistant_id!r} is a graph from langgraph.json, shared by every user, "
            f"and cannot be changed or deleted; create an assistant with graph_id {assistant_id!r} instead."
        )


class InvalidAssistantId(InvalidRequest):
    def __init__(self, assistant_id: str) -> None:
        super().__init__(
            f"Assistant id {assistant_id!r} is not a UUID: the assistants users make have UUIDs."
        )


class GraphNotMade(AppError):
    """A factory graph that failed to make itself with an assistant's config:
    424, as for a graph that did not load."""

    status_code = 424

    def __init__(self, graph_id: str, cause: str) -> None:
        super().__init__(f"The graph {graph_id!r} could not be made with this assistant's config: {cause}")
