"""Assistants: the graphs the monolith runs, registered by id in one place.

Registering a graph is one `Assistant(...)` in `assistants.py`: an id, a name,
a description and a function that compiles the graph with the shared saver.
The app compiles each one once per process; a conversation keeps the
assistant it was created with.
"""

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel, ValidationError

from app.agents.context import AgentServices
from app.agents.graph_agent import Graph, GraphAgent
from app.errors import InvalidRequest

# (model, saver, context_messages) -> the compiled graph.
GraphBuilder = Callable[[BaseChatModel, BaseCheckpointSaver[Any], int], Graph]
# A thread's assistant id; None for a thread no conversation owns.
AssistantOf = Callable[[str], Awaitable[str | None]]
DEFAULT_ASSISTANT = "chat"


class UnknownAssistant(InvalidRequest):
    def __init__(self, assistant_id: str, known: list[str]) -> None:
        super().__init__(f"Unknown assistant {assistant_id!r}; known assistants: {', '.join(known)}.")


def problems(error: ValidationError, whole: str = "resume") -> str:
    """What a validation found, one clause per error, each where it was found."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or whole}: {e['msg']}" for e in error.errors())


class InvalidResume(InvalidRequest):
    def __init__(self, assistant_id: str, error: ValidationError, interrupt_id: str | None = None) -> None:
        which = f" interrupt {interrupt_id}" if interrupt_id else ""
        super().__init__(f"The {assistant_id} assistant cannot resume{which} with that: {problems(error)}.")


@dataclass(frozen=True)
class Assistant:
    id: str
    name: str
    description: str
    build: GraphBuilder
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

    def register(self, assistant: Assistant) -> Assistant:
        if assistant.id in self._assistants:
            raise ValueError(f"an assistant {assistant.id!r} is registered already")
        self._assistants[assistant.id] = assistant
        return assistant

    def get(self, assistant_id: str) -> Assistant:
        try:
            return self._assistants[assistant_id]
        except KeyError:
            raise UnknownAssistant(assistant_id, sorted(self._assistants)) from None

    def __iter__(self) -> Iterator[Assistant]:
        return iter(self._assistants.values())

    def compile(
        self,
        model: BaseChatModel,
        saver: BaseCheckpointSaver[Any],
        context_messages: int,
        assistant_of: AssistantOf,
        services: AgentServices | None = None,
    ) -> "CompiledAssistants":
        agents = {a.id: GraphAgent(a.id, a.build(model, saver, context_messages), services) for a in self}
        return CompiledAssistants(self, agents, assistant_of)


class CompiledAssistants(Mapping[str, GraphAgent]):
    """Every registered graph, compiled once for this process."""

    def __init__(
        self, registry: AssistantRegistry, agents: dict[str, GraphAgent], assistant_of: AssistantOf
    ) -> None:
        self.registry = registry
        self._agents = agents
        self._assistant_of = assistant_of

    async def values_at(self, thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> dict[str, Any]:
        """Retention's snapshot of a thread's state, rebuilt by the graph that wrote it."""
        assistant_id = await self._assistant_of(thread_id) or DEFAULT_ASSISTANT
        agent = self._agents.get(assistant_id) or self._agents[DEFAULT_ASSISTANT]
        return await agent.values_at(thread_id, checkpoint_ns, checkpoint_id)

    def __getitem__(self, assistant_id: str) -> GraphAgent:
        self.registry.get(assistant_id)  # UnknownAssistant for an id never registered
        return self._agents[assistant_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._agents)

    def __len__(self) -> int:
        return len(self._agents)
