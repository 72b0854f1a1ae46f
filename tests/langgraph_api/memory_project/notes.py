"""A graph that finds its store the other two ways LangGraph offers, in a
sync node (`get_store()`) and an async one (an injected `store`), and
namespaces by a user id from its runtime context, as a client sets it."""

from dataclasses import dataclass

from langchain_core.messages import AIMessage
from langgraph.config import get_store
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore


@dataclass
class Owner:
    user_id: str


def write(state: MessagesState, runtime: Runtime[Owner]) -> dict[str, list[AIMessage]]:
    get_store().put(("notes", runtime.context.user_id), "last", {"text": str(state["messages"][-1].content)})
    return {"messages": []}


async def read(state: MessagesState, store: BaseStore) -> dict[str, list[AIMessage]]:
    notes = await store.asearch(("notes",))
    return {"messages": [AIMessage(" | ".join(f"{'.'.join(n.namespace)}={n.value['text']}" for n in notes))]}


builder = StateGraph(MessagesState, context_schema=Owner)
builder.add_node(write)
builder.add_node(read)
builder.add_edge(START, "write")
builder.add_edge("write", "read")
graph = builder.compile()
