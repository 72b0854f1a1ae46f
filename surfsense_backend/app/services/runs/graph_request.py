"""A run as the LangGraph Agent Server API asks for it: the graph's own input
and what of the graph's stream its client wants. Stored with the run
(`thread_runs.kwargs`), so whichever process starts it runs the same thing."""

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, convert_to_messages
from langgraph.types import Command

from app.errors import InvalidRequest

# The Agent Server's stream modes, and the graph's mode each is read from.
STREAM_MODES = {
    "values": "values",
    "updates": "updates",
    "messages": "messages",
    "messages-tuple": "messages",
    "custom": "custom",
    "checkpoints": "checkpoints",
    "tasks": "tasks",
    "debug": "debug",
}


class UnsupportedStreamMode(InvalidRequest):
    def __init__(self, mode: str) -> None:
        known = ", ".join(sorted(STREAM_MODES))
        super().__init__(f"Stream mode {mode!r} is not served here; the modes are: {known}.")


class InvalidInput(InvalidRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"The run's input {reason}.")


@dataclass(frozen=True)
class GraphRequest:
    assistant_id: str
    # The graph's input (its state's keys); None for a run that resumes with a command.
    input: dict[str, Any] | None
    stream_mode: list[str] = field(default_factory=lambda: ["values"])
    stream_subgraphs: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    multitask_strategy: str = "reject"
    # A command's state update and the nodes it sends the graph to (its resume is the run's).
    update: Any = None
    goto: Any = None
    # Nodes to stop before and after (or "*": every node), as if each asked a person.
    interrupt_before: list[str] | str | None = None
    interrupt_after: list[str] | str | None = None
    # An earlier checkpoint of the thread to run from (regenerate, edit); None: its latest.
    checkpoint_id: str | None = None

    def __post_init__(self) -> None:
        for mode in self.stream_mode:
            if mode not in STREAM_MODES:
                raise UnsupportedStreamMode(mode)
        self.messages()  # InvalidInput now, not when the run starts

    @property
    def graph_modes(self) -> list[str]:
        """The graph's stream modes the request's modes read."""
        return sorted({STREAM_MODES[mode] for mode in self.stream_mode})

    def messages(self) -> list[BaseMessage]:
        """The input's `messages`, as LangChain messages (the history stores them
        as the run starts); none when a command goes instead of the input."""
        given = (self.input or {}).get("messages")
        if given is None or self.commands:
            return []
        try:
            return convert_to_messages(given if isinstance(given, list) else [given])
        except (ValueError, TypeError, KeyError, NotImplementedError) as exc:
            raise InvalidInput(f"has messages LangChain cannot read: {exc}") from exc

    def prompt(self) -> str:
        """What the run's record shows it was asked: the last human message's text, else the input."""
        human = [m for m in self.messages() if isinstance(m, HumanMessage)]
        if human:
            return human[-1].text
        if self.commands:
            return json.dumps({"update": self.update, "goto": self.goto}, ensure_ascii=False, default=str)
        return json.dumps(self.input, ensure_ascii=False, default=str)

    @property
    def commands(self) -> bool:
        """Whether the run is a command that updates the state or sends the graph somewhere."""
        return self.update is not None or self.goto is not None

    def command(self, resume: Any = None) -> Command[Any]:
        """The command the graph gets: the run's update and goto, and `resume` if it resumes."""
        return Command(resume=resume, update=self.update, goto=self.goto if self.goto is not None else ())

    def graph_input(self, before: list[BaseMessage]) -> dict[str, Any] | Command[Any] | None:
        """The input the graph gets: the run's command, which goes before any
        input as on the Agent Server (agent-chat-ui sends `input: {}` with its
        commands); else `before` (results for calls the state left unanswered)
        ahead of the input's messages."""
        if self.commands:
            return self.command()
        if self.input is None and not before:
            return None  # go on from where the graph stopped (a node it stopped before, say)
        graph_input = dict(self.input or {})
        if before or "messages" in graph_input:
            graph_input["messages"] = [*before, *self.messages()]
        return graph_input

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "GraphRequest":
        return cls(**data)
