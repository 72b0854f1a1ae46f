"""The savers and graphs compared: ours, the stock saver, and the in-memory ceiling."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, AnyMessage, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from app.agents.chat_graph import ChatAgent
from app.agents.local_model import LocalChatModel
from app.config import PersistenceConfig, psycopg_conninfo
from app.services.persistence import MessageCheckpointer

CONFIGS = ("ours", "stock", "memory")


class PlainChatState(TypedDict):
    """What a LangGraph chat app starts with: the whole list in each checkpoint."""

    messages: Annotated[list[AnyMessage], add_messages]


@dataclass
class Chat:
    """One configuration's chat graph, and the saver under it."""

    name: str
    graph: CompiledStateGraph[Any, Any, Any, Any]
    saver: BaseCheckpointSaver[Any]

    async def turn(self, thread_id: str, text: str) -> None:
        async for item in self.graph.astream(
            {"messages": [HumanMessage(content=text)]},
            {"configurable": {"thread_id": thread_id}},
            stream_mode="messages",
        ):
            chunk, _ = item
            assert isinstance(chunk, AIMessageChunk)


def _plain_graph(
    model: BaseChatModel, saver: BaseCheckpointSaver[Any]
) -> CompiledStateGraph[Any, Any, Any, Any]:
    async def respond(state: Any) -> dict[str, list[AnyMessage]]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder: StateGraph[Any] = StateGraph(PlainChatState)
    builder.add_node("respond", respond)
    builder.add_edge(START, "respond")
    builder.add_edge("respond", END)
    return builder.compile(checkpointer=saver)


@asynccontextmanager
async def stock_saver(database_url: str) -> AsyncIterator[AsyncPostgresSaver]:
    """The stock saver as documented for pools, with psycopg_pool's defaults."""
    pool = AsyncConnectionPool(
        psycopg_conninfo(database_url),
        connection_class=AsyncConnection[Any],
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        open=False,
    )
    await pool.open(wait=True)
    try:
        yield AsyncPostgresSaver(pool)
    finally:
        await pool.close()


@asynccontextmanager
async def chat(name: str, database_url: str) -> AsyncIterator[Chat]:
    """A configuration, opened on the benchmark database and closed after."""
    model = LocalChatModel()
    if name == "ours":
        checkpointer = MessageCheckpointer(database_url, PersistenceConfig())
        saver = await checkpointer.get_saver()
        try:
            yield Chat(name, ChatAgent(model, saver).graph, saver)
        finally:
            await checkpointer.cleanup()
    elif name == "stock":
        async with stock_saver(database_url) as stock:
            yield Chat(name, _plain_graph(model, stock), stock)
    else:
        memory = InMemorySaver()
        yield Chat(name, ChatAgent(model, memory).graph, memory)
