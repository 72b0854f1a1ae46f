"""The docs' example of adding a graph (docs/assistants.md) works as written:
its graph file and its langgraph.json, loaded and run as the page says."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The page's graph file (the block that makes an AppGraph), its langgraph.json, and the block that runs it.
_GRAPH_BLOCK = re.compile(r"```python\n((?:(?!```).)*?AppGraph\(name=.*?)```", re.S)
_JSON_BLOCK = re.compile(r"```json\n((?:(?!```).)*?translator.*?)```", re.S)
_RUN_BLOCK = re.compile(r"```python\n((?:(?!```).)*?\.graph\.ainvoke\(.*?)```", re.S)

# Run in a process of its own, as the app would: the file's graphs import there.
_RUN = """
import asyncio
from pathlib import Path
from langgraph.checkpoint.memory import InMemorySaver
from app.agents import compile_assistants
from app.agents.local_model import LocalChatModel
from langchain_core.messages import HumanMessage

async def main():
    agents = await compile_assistants(InMemorySaver(), LocalChatModel(), graphs_file=Path("langgraph.json"))
{run}
    print(sorted(agents), state["messages"][-1].text)

asyncio.run(main())
"""


def test_the_example_graph_loads_from_its_file_and_runs(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "assistants.md").read_text()
    [graph] = _GRAPH_BLOCK.findall(page)
    [graphs_file] = _JSON_BLOCK.findall(page)
    [run] = _RUN_BLOCK.findall(page)
    (tmp_path / "translator.py").write_text(graph)
    (tmp_path / "langgraph.json").write_text(graphs_file)
    script = _RUN.format(run=textwrap.indent(run, "    "))
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT / "surfsense_backend"), "PATH": "/usr/bin:/bin"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['chat', 'research', 'translator'] Reply 1: you said “bonjour”."
