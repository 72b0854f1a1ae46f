"""The research agent's tools. Each acts for the run's user only (AgentContext)."""

from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import ToolException, tool
from langgraph.prebuilt import ToolRuntime
from langgraph.types import Command

from app.agents.context import AgentContext, AgentServices
from app.agents.research.summary import SEPARATOR
from app.db import session_scope
from app.models import Note

SEARCH_LIMIT = 5
SNIPPET_CHARS = 160
UNTITLED = "Untitled conversation"


def _services(context: AgentContext) -> AgentServices:
    if context.services is None:
        raise ToolException("This run has no services to call: compile the assistants with them.")
    return context.services


@tool
async def search_conversations(query: str, runtime: ToolRuntime[AgentContext, Any]) -> Command[Any]:
    """Search the user's other conversations for messages that contain every word of `query`, best first."""
    context = runtime.context
    search = _services(context).search_messages
    async with session_scope(context.sessions) as session:
        hits = await search(session, context.user_id, query, SEARCH_LIMIT, context.conversation_id)
    found = [(hit.title or UNTITLED, hit.role, hit.content[:SNIPPET_CHARS]) for hit in hits]
    lines = [f"{title}{SEPARATOR}{content}" for title, _, content in found]
    if found:
        result = "\n".join(f"- “{title}”, {role}: {content}" for title, role, content in found)
    else:
        result = f"No message in your other conversations mentions “{query}”."
    message = ToolMessage(result, tool_call_id=runtime.tool_call_id or "", name="search_conversations")
    # The findings feed the summarising subgraph; the message is what the model reads.
    return Command(update={"findings": lines, "messages": [message]})


@tool
async def save_note(text: str, runtime: ToolRuntime[AgentContext, Any]) -> str:
    """Save a note for the user. The agent asks the user to approve it first."""
    context = runtime.context
    check = _services(context).check_note
    async with session_scope(context.sessions) as session:
        if problem := check(session, text):
            raise ToolException(f"The note cannot be saved: {problem}")
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
