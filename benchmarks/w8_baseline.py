"""W8's JSON turns against a baseline: the app as it is and as it was at an
earlier commit (a checkout of it), served alike, measured alternately in
one run, each on a fresh database its own migrations made, so only the
pairs compare on a shared machine.

    make bench-baseline BASE=<commit>        # or, with a checkout at hand:
    python -m benchmarks.w8_baseline <checkout> [rounds]
"""

import asyncio
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.database import recreated, server_url
from benchmarks.w8_http import ROOT, serving, throughput

CONVERSATIONS, TURNS = 50, 10
_MIGRATE = "import sys; from app.db.migrate import upgrade_to_head; upgrade_to_head(sys.argv[1])"


async def _fresh(server: str, database: str, root: Path) -> str:
    """A new database migrated by the checkout at `root` (its own schema's head)."""
    target = await recreated(server, database)
    env = {"PYTHONPATH": f"{root / 'surfsense_backend'}:{root}", "PATH": "/usr/bin:/bin"}
    await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", _MIGRATE, target], cwd=root, env=env, check=True
    )
    return target


async def compare(baseline: Path, rounds: int) -> dict[str, Any]:
    server = server_url()
    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "ours": []}
    for _ in range(rounds):
        for name, root in (("baseline", baseline), ("ours", ROOT)):
            database_url = await _fresh(server, f"surfsense_bench_{name}", root)
            async with serving("ours", database_url, root) as app:
                runs[name].append(await throughput(app, CONVERSATIONS, TURNS, streamed=False))
            print(f"W8 {name} round done", file=sys.stderr)
    medians = {
        name: {key: statistics.median(run[key] for run in results) for key in results[0]}
        for name, results in runs.items()
    }
    return {
        "rounds": rounds,
        "median": medians,
        "turns_per_s_ratio": medians["ours"]["turns_per_s"] / medians["baseline"]["turns_per_s"],
        "server_cpu_ratio": medians["ours"]["server_cpu_ms_per_turn"]
        / medians["baseline"]["server_cpu_ms_per_turn"],
    }


if __name__ == "__main__":
    checkout = Path(sys.argv[1]).resolve()
    print(json.dumps(asyncio.run(compare(checkout, int(sys.argv[2]) if len(sys.argv) > 2 else 3)), indent=2))
