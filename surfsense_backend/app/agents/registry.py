"""Assistants: the graphs the app runs, by id, as `langgraph.json` declares
them (app/agents/loader.py loads them at start-up); a conversation keeps the
assistant it was created with. A graph the file names but that did not load
is remembered with its cause, so a request naming it says why.
"""

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from app.agents.graph_agent import GraphAgent
from app.agents.run_context import problems
from app.errors import AppError, InvalidRequest

# A thread's assistant id; None for a thread no conversation owns.
AssistantOf = Callable[[str], Awaitable[str | None]]
DEFAULT_ASSISTANT = "chat"


class UnknownAssistant(InvalidRequest):
    def __init__(self, assistant_id: str, known: list[str]) -> None:
        super().__init__(f"Unknown assistant {assistant_id!r}; known assistants: {', '.join(known)}.")


class GraphNotLoaded(AppError):
    """A graph `langgraph.json` names that failed to load at start-up: 424,
    as the Agent Server answers for a graph it cannot build."""

    status_code = 424

    def __init__(self, graph_id: str, cause: str) -> None:
        super().__init__(f"The graph {graph_id!r} did not load at start-up: {cause}")


class InvalidResume(InvalidRequest):
    def __init__(self, assistant_id: str, error: ValidationError, interrupt_id: str | None = None) -> None:
        which = f" interrupt {interrupt_id}" if interrupt_id else ""
        super().__init__(f"The {assistant_id} assistant cannot resume{which} with that: {problems(error)}.")


@dataclass(frozen=True)
class Assistant:
    id: str
    name: str
    description: str
    uses_tools: bool = False
    # What an answer to one of its interrupts must look like; None: any JSON value.
    resume_schema: type[BaseModel] | None = None

    def check_resume(self, value: Any, asked: Any = None, interrupt_id: str | None = None) -> Any:
        """An answer as the graph gets it, or InvalidResume (422). `asked`: the
        value of the interrupt it answers, once known; the schema reads it
        from its validation context (`{"asked": ...}`) to check the answer
        against the question (one decision per action, say). `interrupt_id`
        names the interrupt in the error, for an answer of several."""
        if self.resume_schema is None:
            return value
        try:
            return self.resume_schema.model_validate(value, context={"asked": asked}).model_dump()
        except ValidationError as error:
            raise InvalidResume(self.id, error, interrupt_id) from error


class AssistantRegistry:
    def __init__(self) -> None:
        self._assistants: dict[str, Assistant] = {}
        # Graphs the file names that did not load: id -> why.
        self.failed: dict[str, str] = {}

    def register(self, assistant: Assistant) -> Assistant:
        if assistant.id in self._assistants:
            raise ValueError(f"an assistant {assistant.id!r} is registered already")
        self._assistants[assistant.id] = assistant
        return assistant

    def get(self, assistant_id: str) -> Assistant:
        try:
            return self._assistants[assistant_id]
        except KeyError:
            if assistant_id in self.failed:
                raise GraphNotLoaded(assistant_id, self.failed[assistant_id]) from None
            raise UnknownAssistant(assistant_id, sorted(self._assistants)) from None

    def __iter__(self) -> Iterator[Assistant]:
        return iter(self._assistants.values())


class CompiledAssistants(Mapping[str, GraphAgent]):
    """Every graph that loaded, on the shared saver, for this process."""

    def __init__(
        self, registry: AssistantRegistry, agents: dict[str, GraphAgent], assistant_of: AssistantOf
    ) -> None:
        self.registry = registry
        self._agents = agents
        self._assistant_of = assistant_of

    async def values_at(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> dict[str, Any]:
        """Retention's snapshot of a thread's state, rebuilt by the graph that wrote it."""
        assistant_id = await self._assistant_of(thread_id) or DEFAULT_ASSISTANT
        agent = (
            self._agents.get(assistant_id)
            or self._agents.get(DEFAULT_ASSISTANT)
            or next(iter(self._agents.values()))
        )
        return await agent.values_at(thread_id, checkpoint_ns, checkpoint_id)

    def __getitem__(self, assistant_id: str) -> GraphAgent:
        self.registry.get(assistant_id)  # UnknownAssistant for an id never registered
        return self._agents[assistant_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._agents)

    def __len__(self) -> int:
        return len(self._agents)
