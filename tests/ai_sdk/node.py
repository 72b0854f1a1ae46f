"""Running this folder's Node.js scripts from a test."""

import asyncio
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


async def run_node(node: str, script: str, *args: str) -> Any:
    """Run one of this folder's scripts; its JSON output."""
    process = await asyncio.create_subprocess_exec(
        node,
        str(HERE / script),
        *args,
        cwd=HERE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return json.loads(out)
