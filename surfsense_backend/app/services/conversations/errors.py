"""Errors of the conversation and chat domain."""

import json
import uuid
from typing import Any

from app.errors import AppError, Conflict, NotFound


class RunNotFound(NotFound):
    def __init__(self, run_id: uuid.UUID | None = None) -> None:
        # No id: found gone by a write that referred to it (app.services.integrity).
        if run_id is None:
            super().__init__("The run was deleted while this request was served.")
        else:
            super().__init__(f"Run {run_id} was not found.")


class AssistantOfAnotherGraph(Conflict):
    def __init__(self, conversation_id: uuid.UUID, graph_id: str, theirs: str) -> None:
        super().__init__(
            f"Conversation {conversation_id} runs the {graph_id} graph for good: "
            f"an assistant of the {theirs} graph needs a new conversation."
        )


class RunInProgress(Conflict):
    def __init__(self) -> None:
        super().__init__("A reply is still being generated in this conversation; send again when it is done.")


class ServerStopping(AppError):
    """This process is shutting down; another (or this one, restarted) will take the message."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__("The server is stopping; send the message again in a moment.")


class AgentFailed(AppError):
    """The model or the graph failed; the user's message is kept and the run says failed."""

    status_code = 502

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"The agent failed ({kind}): {detail}")
        # What the run records and its stream's error event says.
        self.error_kind = kind
        self.reason = detail


class InterruptPending(Conflict):
    """The graph waits for an answer: resume it before sending a message."""

    def __init__(self, interrupt_id: str, value: Any) -> None:
        # An approval request (LangChain's format) is named by its actions.
        actions = value.get("action_requests") if isinstance(value, dict) else None
        names = [a.get("name") for a in actions if isinstance(a, dict)] if isinstance(actions, list) else []
        named = [n for n in names if isinstance(n, str)]
        what = f" to {', '.join(named)}" if named else f": {json.dumps(value, default=str)[:200]}"
        super().__init__(
            f"The agent is waiting for your answer (interrupt {interrupt_id}){what}; "
            'resume it with {"resume": ...} before sending a message.'
        )
        self.interrupt_id = interrupt_id


class UnknownInterrupt(Conflict):
    """A resume that answers, by id, an interrupt the graph does not wait at."""

    def __init__(self, unknown: list[str], pending: list[str]) -> None:
        super().__init__(
            f"No interrupt {', '.join(unknown)} waits for an answer here; "
            f"the graph waits at: {', '.join(pending)}."
        )


class InterruptsUnanswered(Conflict):
    """Several interrupts wait (parallel branches): a resume answers each by id."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            f"Interrupts {', '.join(missing)} wait for an answer too: resume with an answer "
            'for each pending interrupt, by id: {"<interrupt id>": <answer>, ...}.'
        )


class NoInterruptPending(Conflict):
    def __init__(self) -> None:
        super().__init__("Nothing in this conversation is waiting for an answer; send a message instead.")


class RunLost(AppError):
    """The run's lease ran out (its process stalled past it) and another process
    marked it interrupted; this process stops it without recording more."""

    status_code = 503

    def __init__(self, run_id: uuid.UUID | None = None) -> None:
        which = f"Run {run_id}" if run_id is not None else "The run"
        super().__init__(f"{which} was taken over after its process stopped answering; send again.")


class RunCancelled(Conflict):
    """The run this request waited for was cancelled (a cancel, or a newer message's strategy)."""

    def __init__(self, action: str) -> None:
        kept = "its completed steps are kept" if action == "interrupt" else "it left no trace"
        super().__init__(f"The run was cancelled ({action}): {kept}.")


class RunNotActive(Conflict):
    def __init__(self, run_id: uuid.UUID, status: str) -> None:
        super().__init__(f"Run {run_id} is {status}: only a pending or running run can be cancelled.")


class RunEndedWithError(AppError):
    """A run this request waited for, queued or executed by another process,
    failed: the kind and detail it recorded."""

    status_code = 502

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self._kind = kind

    @property
    def kind(self) -> str:
        return self._kind
