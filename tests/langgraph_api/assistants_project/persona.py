"""A graph configured by LangGraph's runtime context: who it speaks as."""

from dataclasses import dataclass

from langgraph.graph import START, MessagesState, StateGraph
from langgraph.runtime import Runtime


@dataclass
class Persona:
    voice: str
    excitement: int = 0


def speak(state: MessagesState, runtime: Runtime[Persona]) -> dict[str, list[dict[str, str]]]:
    said = f"{runtime.context.voice} says hello" + "!" * runtime.context.excitement
    return {"messages": [{"role": "assistant", "content": said}]}


builder = StateGraph(MessagesState, context_schema=Persona)
builder.add_node(speak)
builder.add_edge(START, "speak")
graph = builder.compile()
