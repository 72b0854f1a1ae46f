"""The savers and graphs compared: ours, the stock saver, and the in-memory ceiling."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, AnyMessage, HumanMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.pregel import Pregel
from langgraph.types import Command
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.agents import compile_assistants
from app.agents.chat_graph import ChatAgent
from app.agents.context import AgentContext
from app.agents.local_model import LocalChatModel
from app.agents.research import build_research_graph
from app.config import PersistenceConfig, Settings, psycopg_conninfo
from app.db import create_engine
from app.models import Conversation, User
from app.services.persistence import MessageCheckpointer

CONFIGS = ("ours", "stock", "memory")


class PlainChatState(TypedDict):
    """What a LangGraph chat app starts with: the whole list in each checkpoint."""

    messages: Annotated[list[AnyMessage], add_messages]


@dataclass
class Chat:
    """One configuration's chat graph, the saver under it, and its retention
    sweep (keep PERSISTENCE_MAX_CHECKPOINT_HISTORY per thread) if it has one."""

    name: str
    graph: Pregel[Any, Any, Any, Any]
    saver: BaseCheckpointSaver[Any]
    retain: Callable[[], Awaitable[int]] | None = None

    async def new_thread(self) -> str:
        return str(uuid.uuid4())

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
async def chat(name: str, database_url: str, context_messages: int | None = None) -> AsyncIterator[Chat]:
    """A configuration, opened on the benchmark database and closed after.

    Ours and the in-memory ceiling run the product's graph, its state keeping
    `context_messages` messages (default: CHAT_CONTEXT_MESSAGES, as the app).
    """
    model = LocalChatModel()
    if context_messages is None:
        context_messages = Settings(database_url=database_url).chat_context_messages
    if name == "ours":
        checkpointer = MessageCheckpointer(database_url, PersistenceConfig())
        saver = await checkpointer.get_saver()
        agent = ChatAgent(model, saver, context_messages)
        checkpointer.rebase = agent.values_at  # as the app sets it
        try:
            yield Chat(name, agent.graph, saver, checkpointer.enforce_max_history)
        finally:
            await checkpointer.cleanup()
    elif name == "stock":
        async with stock_saver(database_url) as stock:
            yield Chat(name, _plain_graph(model, stock), stock)
    else:
        memory = InMemorySaver()
        yield Chat(name, ChatAgent(model, memory, context_messages).graph, memory)


# The research agent's whole flow in one turn: a search, the subgraph's
# summary, a note asked for, the interrupt, and the resume that approves it.
RESEARCH_ASK = "search for durable memory and save a note"


@dataclass
class ResearchChat(Chat):
    """The research agent on a configuration's saver: each thread is a
    conversation of one user (its tools read and write as that user)."""

    sessions: async_sessionmaker[AsyncSession] | None = None
    user_id: uuid.UUID = field(default_factory=uuid.uuid4)

    async def new_thread(self) -> str:
        assert self.sessions is not None
        async with self.sessions() as s:
            conversation = Conversation(user_id=self.user_id, assistant_id="research")
            s.add(conversation)
            await s.commit()
        return str(conversation.id)

    async def turn(self, thread_id: str, text: str) -> None:
        assert self.sessions is not None
        context = AgentContext(self.user_id, uuid.UUID(thread_id), self.sessions)
        config: Any = {"configurable": {"thread_id": thread_id}}
        inputs: list[Any] = [
            {"messages": [HumanMessage(content=RESEARCH_ASK)]},
            Command(resume={"approved": True}),
        ]
        for graph_input in inputs:
            async for _ in self.graph.astream(graph_input, config, context=context, stream_mode="messages"):
                pass


@asynccontextmanager
async def research(name: str, database_url: str) -> AsyncIterator[ResearchChat]:
    """The research agent, as the app builds it, on ours, the stock saver or in memory."""
    engine = create_engine(database_url, Settings(database_url=database_url))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as s:
        user = User(email=f"bench-research-{uuid.uuid4().hex}@example.com", hashed_password="-")
        s.add(user)
        await s.commit()
    model = LocalChatModel()
    context_messages = Settings(database_url=database_url).chat_context_messages
    try:
        async with chat(name, database_url) as base:
            if name == "ours":
                graph = (await compile_assistants(base.saver, model))["research"].graph
            else:
                graph = build_research_graph(model, base.saver, context_messages)
            yield ResearchChat(name, graph, base.saver, sessions=sessions, user_id=user.id)
    finally:
        await engine.dispose()
