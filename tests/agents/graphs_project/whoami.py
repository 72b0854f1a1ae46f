"""A graph that keeps per-user data the way LangGraph users do: by reading
who runs it from `config["configurable"]`, which the server fills in."""

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, MessagesState, StateGraph


def introduce(state: MessagesState, config: RunnableConfig) -> dict[str, list[dict[str, str]]]:
    given = config["configurable"]
    who = (
        f"user={given['user_id']} auth={given['langgraph_auth_user']['identity']} "
        f"assistant={given['assistant_id']} graph={given['graph_id']} run={given['run_id']}"
    )
    return {"messages": [{"role": "assistant", "content": who}]}


workflow = StateGraph(MessagesState)
workflow.add_node(introduce)
workflow.add_edge(START, "introduce")
