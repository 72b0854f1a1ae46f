"""How many of the app's modules one JSON chat turn runs code of: a measure
of how much a person must read to follow a turn, from the route to SQL.

One warm turn first (first-use imports and caches), then a profile hook
records the file of every Python function called during the next turn,
on the loop, in the run's task and in SQLAlchemy's greenlets alike (one
thread). Self-contained (it imports only `app` and httpx), so it measures an
older checkout too, on a database that checkout migrated:

    PYTHONPATH=<checkout>/surfsense_backend python benchmarks/modules_per_turn.py <database url>
"""

import asyncio
import json
import sys
import uuid
from pathlib import Path
from types import FrameType

import httpx

import app
from app.agents.local_model import LocalChatModel
from app.main import create_app

APP = Path(app.__file__).parent


def _ours(files: set[str]) -> list[str]:
    """The app's own files among `files`, relative to the package."""
    resolved = (Path(name).resolve() for name in files)
    return sorted(path.relative_to(APP).as_posix() for path in resolved if path.is_relative_to(APP))


async def _called_in_a_turn(database_url: str) -> set[str]:
    application = create_app(database_url, chat_model=LocalChatModel())
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://modules") as client:
            email, password = f"modules-{uuid.uuid4().hex}@example.com", "benchmark password"
            await client.post("/auth/register", json={"email": email, "password": password})
            login = await client.post("/auth/jwt/login", data={"username": email, "password": password})
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            conversation = (await client.post("/api/v1/conversations", json={})).json()["id"]
            url = f"/api/v1/conversations/{conversation}/messages"
            await client.post(url, json={"content": "warm up"})
            called: set[str] = set()

            def profile(frame: FrameType, event: str, _: object) -> None:
                if event == "call":
                    called.add(frame.f_code.co_filename)

            sys.setprofile(profile)
            try:
                reply = await client.post(url, json={"content": "how many modules?"})
            finally:
                sys.setprofile(None)
            reply.raise_for_status()
    return called


if __name__ == "__main__":
    ours = _ours(asyncio.run(_called_in_a_turn(sys.argv[1])))
    print(json.dumps({"modules": len(ours), "files": ours}, indent=2))
