"""A graph written the way LangGraph's memory examples write one: it reads
`runtime.store` and keeps each user's memories under a namespace of the
user id the server puts in `configurable`."""

import uuid

from langchain_core.messages import AIMessage
from langgraph.config import get_config
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.runtime import Runtime


async def remember(state: MessagesState, runtime: Runtime) -> dict[str, list[AIMessage]]:
    assert runtime.store is not None
    namespace = ("memories", get_config()["configurable"]["user_id"])
    said = str(state["messages"][-1].content)
    if said.startswith("remember "):
        await runtime.store.aput(namespace, str(uuid.uuid4()), {"fact": said.removeprefix("remember ")})
    facts = sorted(item.value["fact"] for item in await runtime.store.asearch(namespace))
    return {"messages": [AIMessage("I remember: " + "; ".join(facts))]}


builder = StateGraph(MessagesState)
builder.add_node(remember)
builder.add_edge(START, "remember")
graph = builder.compile()
