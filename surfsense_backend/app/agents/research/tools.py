"""The research agent's tools. Each acts for the run's user only (AgentContext)."""

from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import ToolException, tool
from langgraph.prebuilt import ToolRuntime
from langgraph.types import Command

from app.agents.context import AgentContext
from app.agents.research.summary import SEPARATOR
from app.db import session_scope
from app.models import Note
from app.services.persistence import ConversationStorage, InvalidMessage

SEARCH_LIMIT = 5
SNIPPET_CHARS = 160


@tool
async def search_conversations(query: str, runtime: ToolRuntime[AgentContext, Any]) -> Command[Any]:
    """Search the user's other conversations for messages that contain every word of `query`."""
    context = runtime.context
    async with session_scope(context.sessions) as session:
        storage = ConversationStorage(session, owner_id=context.user_id)
        hits = await storage.search_messages(query, limit=SEARCH_LIMIT, exclude=context.conversation_id)
    lines = [f"{hit.title}{SEPARATOR}{hit.content[:SNIPPET_CHARS]}" for hit in hits]
    if hits:
        result = "\n".join(f"- “{hit.title}”, {hit.role}: {hit.content[:SNIPPET_CHARS]}" for hit in hits)
    else:
        result = f"No message in your other conversations mentions “{query}”."
    message = ToolMessage(result, tool_call_id=runtime.tool_call_id or "", name="search_conversations")
    # The findings feed the summarising subgraph; the message is what the model reads.
    return Command(update={"findings": lines, "messages": [message]})


@tool
async def save_note(text: str, runtime: ToolRuntime[AgentContext, Any]) -> str:
    """Save a note for the user. The agent asks the user to approve it first."""
    context = runtime.context
    async with session_scope(context.sessions) as session:
        try:
            ConversationStorage(session).check_message({"role": "user", "content": text})
        except InvalidMessage as exc:
            raise ToolException(f"The note cannot be saved: {exc}") from exc
        note = Note(user_id=context.user_id, conversation_id=context.conversation_id, content=text)
        session.add(note)
        await session.flush()
        note_id = note.id
    return f"Saved note {note_id}: “{text}”."


# A note that cannot be stored is the tool's error result, for the model to read.
save_note.handle_tool_error = True

TOOLS = [search_conversations, save_note]
# Tools that run only once the user approves the call.
NEEDS_APPROVAL = frozenset({"save_note"})
