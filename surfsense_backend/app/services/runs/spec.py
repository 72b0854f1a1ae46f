"""What a run is asked to do: its input or command, what of the graph's
stream its client wants, where it starts and what it does where others run.

Both APIs build one at their edge (`/api/v1` from a message or an answer,
`/langgraph` from the Agent Server's run request); the engine runs it the
same whichever asked. Stored with the run (`thread_runs.kwargs`), so
whichever process starts a queued run runs the same thing."""

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, convert_to_messages
from langgraph.types import Command

from app.db.content import Content, text_of
from app.errors import InvalidRequest
from app.models import MultitaskStrategy, ThreadRun

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
    "events": "events",
}


class UnsupportedStreamMode(InvalidRequest):
    def __init__(self, mode: str) -> None:
        known = ", ".join(sorted(STREAM_MODES))
        super().__init__(f"Stream mode {mode!r} is not served here; the modes are: {known}.")


class InvalidInput(InvalidRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"The run's input {reason}.")


@dataclass(frozen=True)
class RunSpec:
    # The graph's input (its state's keys); None for a run that only resumes or commands.
    input: dict[str, Any] | None = None
    # The answer to the interrupts the graph waits at; None: the run does not resume.
    resume: Any = None
    # A command's state update and the nodes it sends the graph to.
    update: Any = None
    goto: Any = None
    # The graph's stream modes its client reads, besides the run's own events (tokens, tools).
    stream_mode: list[str] = field(default_factory=list)
    stream_subgraphs: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    multitask_strategy: MultitaskStrategy = MultitaskStrategy.REJECT
    # Nodes to stop before and after (or "*": every node), as if each asked a person.
    interrupt_before: list[str] | str | None = None
    interrupt_after: list[str] | str | None = None
    # An earlier checkpoint of the thread to run from (regenerate, edit); None: its latest.
    checkpoint_id: str | None = None
    # New input where the graph waits at interrupts: True goes past them (LangGraph
    # drops them, as the Agent Server does); False refuses it (InterruptPending).
    past_interrupts: bool = False
    # The graph the run's thread runs, filled in as the run is admitted.
    assistant_id: str | None = None
    # The assistant a user made that the run was asked for (its UUID), whose
    # config and context `config` and `context` hold; None: the graph's own.
    stored_assistant: str | None = None
    # The run's config (`configurable`, `tags`, `recursion_limit`) and its graph's
    # runtime context, as its client and assistant gave them (run_config.merged_config).
    config: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        for mode in self.stream_mode:
            if mode not in STREAM_MODES:
                raise UnsupportedStreamMode(mode)
        # Stored as JSON and read back: the enum, whichever was given.
        object.__setattr__(self, "multitask_strategy", MultitaskStrategy(self.multitask_strategy))
        # Read once, here: InvalidInput now, not when the run starts.
        object.__setattr__(self, "_given", self._converted())

    @classmethod
    def message(cls, content: Content, strategy: MultitaskStrategy, **configured: Any) -> "RunSpec":
        """A person's message (text or content blocks), as the chat API sends
        it; `configured`: its `config` and `context`."""
        given = {"messages": [{"role": "user", "content": content}]}
        return cls(input=given, multitask_strategy=strategy, **configured)

    @classmethod
    def answer(cls, resume: Any, strategy: MultitaskStrategy, **configured: Any) -> "RunSpec":
        """An answer to the interrupts the graph waits at, as the chat API sends it."""
        return cls(resume=resume, multitask_strategy=strategy, **configured)

    @property
    def resumes(self) -> bool:
        return self.resume is not None

    @property
    def commands(self) -> bool:
        """Whether the run updates the state or sends the graph somewhere."""
        return self.update is not None or self.goto is not None

    @property
    def configurable(self) -> dict[str, Any]:
        configurable: dict[str, Any] = self.config.get("configurable", {})
        return configurable

    @property
    def graph_modes(self) -> list[str]:
        """The graph's stream modes the spec's modes read."""
        return sorted({STREAM_MODES[mode] for mode in self.stream_mode})

    def messages(self) -> list[BaseMessage]:
        """The input's `messages`, as LangChain messages (the history stores them
        as the run starts); none when a resume or a command goes instead."""
        given: list[BaseMessage] = self._given  # type: ignore[attr-defined]
        return list(given)

    def _converted(self) -> list[BaseMessage]:
        given = (self.input or {}).get("messages")
        if given is None or self.commands or self.resumes:
            return []
        try:
            return convert_to_messages(given if isinstance(given, list) else [given])
        except (ValueError, TypeError, KeyError, NotImplementedError) as exc:
            raise InvalidInput(f"has messages LangChain cannot read: {exc}") from exc

    def _asked(self) -> HumanMessage | None:
        return next((m for m in reversed(self.messages()) if isinstance(m, HumanMessage)), None)

    def prompt(self) -> str:
        """What the run's record shows it was asked: the last human message's
        text, else the answer, the command or the input."""
        if (asked := self._asked()) is not None:
            return text_of(asked.content)
        if self.resumes:
            return _json(self.resume)
        if self.commands:
            return _json({"update": self.update, "goto": self.goto})
        return _json(self.input)

    def command(self, resume: Any = None) -> Command[Any]:
        """The command the graph gets: the run's update and goto, and `resume` if it resumes."""
        return Command(resume=resume, update=self.update, goto=self.goto if self.goto is not None else ())

    def graph_input(
        self, before: list[BaseMessage], answer: Any = None
    ) -> dict[str, Any] | Command[Any] | None:
        """The input the graph gets: a command when the run resumes (with
        `answer`, its checked answer) or commands, which goes before any input
        as on the Agent Server (agent-chat-ui sends `input: {}` with its
        commands); else `before` (results for calls the state left unanswered)
        ahead of the input's messages."""
        if self.resumes or self.commands:
            return self.command(answer)
        if self.input is None and not before:
            return None  # go on from where the graph stopped (a node it stopped before, say)
        graph_input = dict(self.input or {})
        if before or "messages" in graph_input:
            # Objects of their own: the graph may give them ids in place.
            graph_input["messages"] = [*before, *self._converted()]
        return graph_input

    def for_run(self, assistant_id: str, resume: Any) -> "RunSpec":
        """The spec as admitted: on the thread's graph, with its answer checked."""
        return replace(self, assistant_id=assistant_id, resume=resume)

    def to_json(self) -> dict[str, Any]:
        """The spec as its run stores it; the answer goes in the run's own `resume`."""
        stored = asdict(self)
        del stored["resume"]
        return stored

    @classmethod
    def of(cls, run: ThreadRun) -> "RunSpec":
        """The spec a stored run was admitted with. A chat-API run queued before
        runs kept one has its message or its answer in its own columns."""
        if run.kwargs is not None:
            return cls(**run.kwargs, resume=run.resume)
        if run.resume is not None:
            return cls(resume=run.resume)
        return cls(input={"messages": [{"role": "user", "content": run.blocks or run.prompt}]})


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
