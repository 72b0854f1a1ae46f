"""The app's own graphs, as the repository's `langgraph.json` names them
(`app.agents.builtin:chat`, `app.agents.builtin:research`)."""

from app.agents.app_graph import AppGraph
from app.agents.chat_graph import build_chat_graph
from app.agents.research import ApprovalIn, build_research_graph

chat = AppGraph(
    name="Chat",
    description="Answers each message; remembers the conversation.",
    build=build_chat_graph,
)
research = AppGraph(
    name="Research",
    description="Searches your other conversations, summarises what it finds, "
    "and saves notes once you approve them.",
    build=build_research_graph,
    uses_tools=True,
    resume_schema=ApprovalIn,
)
