"""The docs' example of registering an assistant (docs/assistants.md) works as written."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The one Python block of the page that registers an Assistant, and the one that runs it.
_BLOCK = re.compile(r"```python\n((?:(?!```).)*?ASSISTANTS\.register\(.*?)```", re.S)
_RUN_BLOCK = re.compile(r"```python\n((?:(?!```).)*?\.graph\.ainvoke\(.*?)```", re.S)

# Run in a process of its own: registering changes the registry of that process only.
_RUN = """
import asyncio
from langgraph.checkpoint.memory import InMemorySaver
from app.agents import compile_assistants
from app.agents.local_model import LocalChatModel
from langchain_core.messages import HumanMessage

{example}

async def main():
    agents = compile_assistants(InMemorySaver(), LocalChatModel())
{run}
    print(sorted(agents), state["messages"][-1].text)

asyncio.run(main())
"""


def test_the_registration_example_registers_and_runs() -> None:
    page = (ROOT / "docs" / "assistants.md").read_text()
    [example] = _BLOCK.findall(page)
    [run] = _RUN_BLOCK.findall(page)
    script = _RUN.format(example=textwrap.dedent(example), run=textwrap.indent(run, "    "))
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "surfsense_backend"), "PATH": "/usr/bin:/bin"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['chat', 'research', 'translator'] Reply 1: you said “bonjour”."
