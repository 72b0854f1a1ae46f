"""The assistants this app runs. Register a graph here (see docs/assistants.md)."""

from app.agents.chat_graph import build_chat_graph
from app.agents.registry import Assistant, AssistantRegistry
from app.agents.research import ApprovalIn, build_research_graph

ASSISTANTS = AssistantRegistry()

ASSISTANTS.register(
    Assistant(
        id="chat",
        name="Chat",
        description="Answers each message; remembers the conversation.",
        build=build_chat_graph,
    )
)
ASSISTANTS.register(
    Assistant(
        id="research",
        name="Research",
        description="Searches your other conversations, summarises what it finds, "
        "and saves notes once you approve them.",
        build=build_research_graph,
        uses_tools=True,
        resume_schema=ApprovalIn,
    )
)
