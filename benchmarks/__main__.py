"""`make bench`: every workload for ours, the stock saver and the in-memory ceiling.

Configurations run interleaved in the same process on the same database, so a
noisy neighbour slows them alike; the table reports medians and ours/stock.
BENCH_QUICK=1 shrinks every workload for a smoke run.
"""

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg_pool import AsyncConnectionPool

from app.config import Settings
from app.db import create_engine
from benchmarks.configs import CONFIGS, chat, research
from benchmarks.database import behind_latency, fresh_database, server_url
from benchmarks.report import plot, print_table
from benchmarks.w8_http import w8_http
from benchmarks.w8_recall import w8_recall
from benchmarks.w9_search import w9_search, w9_write_cost
from benchmarks.w10_memory import w10_memory
from benchmarks.workloads import (
    bare_call_cpu_us,
    statements_per_turn,
    w1_throughput,
    w2_long_conversation,
    w3_history,
    w5_bulk_messages,
    w6_list,
    w7_operator_commands,
)

RESULTS = Path(__file__).parent / "results"
# W1 again with the database 1 ms away each way: a managed PostgreSQL in the
# same region is typically 0.5 to 2 ms from the app.
ONE_WAY_MS = 1.0
QUICK = os.environ.get("BENCH_QUICK") == "1"
SIZES = {
    "w1_conversations": 50,
    "w1_turns": 5 if QUICK else 20,
    "w1_rounds": 1 if QUICK else 3,
    "w1_research_turns": 2 if QUICK else 5,
    "statement_turns": 20,
    "w2_turns": 100 if QUICK else 1000,
    "w3_messages": 10_000,
    "w3_repeat": 20 if QUICK else 100,
    "w4_megabytes": 10 if QUICK else 100,
    "w5_messages": 1000,
    "w6_conversations": 1000,
    "w8_turns": 3 if QUICK else 10,
    # W8's recall pair, alternated: a round is one run of each.
    "w8_recall_rounds": 2 if QUICK else 6,
    "w9_messages": 100_000 if QUICK else 1_000_000,
    "w9_repeat": 20 if QUICK else 100,
    "w9_write_turns": 3 if QUICK else 10,
}


def _rotated(configs: tuple[str, ...], round_: int) -> list[str]:
    first = round_ % len(configs)
    return list(configs[first:] + configs[:first])


async def _w1(database_url: str, configs: tuple[str, ...] = CONFIGS) -> dict[str, dict[str, float]]:
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in configs}
    for round_ in range(SIZES["w1_rounds"]):
        for name in _rotated(configs, round_):
            async with chat(name, database_url) as c:
                samples[name].append(await w1_throughput(c, SIZES["w1_conversations"], SIZES["w1_turns"]))
    return {
        name: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        for name, runs in samples.items()
    }


async def _w1_research(database_url: str) -> dict[str, dict[str, float]]:
    """W1 with the research agent: each turn a search, the summarising
    subgraph, an interrupt and the resume that approves the note."""
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in CONFIGS}
    for round_ in range(SIZES["w1_rounds"]):
        for name in _rotated(CONFIGS, round_):
            async with research(name, database_url) as agent:
                samples[name].append(
                    await w1_throughput(agent, SIZES["w1_conversations"], SIZES["w1_research_turns"])
                )
    return {
        name: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        for name, runs in samples.items()
    }


async def _w1_call_floor(database_url: str) -> dict[str, float]:
    """The CPU of a bare call through our saver's pool, at W1's concurrency."""
    async with chat("ours", database_url) as c:
        pool = getattr(c.saver, "conn", None)
        assert isinstance(pool, AsyncConnectionPool)
        await bare_call_cpu_us(pool, SIZES["w1_conversations"], 10)  # warm the pool
        us = await bare_call_cpu_us(pool, SIZES["w1_conversations"], 100)
    return {"bare_call_cpu_us": us}


async def _w2(database_url: str) -> dict[str, dict[str, Any]]:
    """W2 for each configuration, and for ours once more with the whole
    conversation in the agent's state (CHAT_CONTEXT_MESSAGES=0)."""
    engine = create_engine(database_url, Settings(database_url=database_url))
    try:
        async with AsyncExitStack() as stack:
            chats = {name: await stack.enter_async_context(chat(name, database_url)) for name in CONFIGS}
            chats["ours_whole_state"] = await stack.enter_async_context(
                chat("ours", database_url, context_messages=0)
            )
            return await w2_long_conversation(chats, engine, SIZES["w2_turns"])
    finally:
        await engine.dispose()


def _large_state(name: str, step: str, database_url: str, argument: str) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - our own module, our own arguments
        [sys.executable, "-m", "benchmarks.large_state", name, step, database_url, argument],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _w4(database_url: str) -> dict[str, dict[str, float]]:
    results = {}
    for name in ("ours", "stock"):
        saved = _large_state(name, "save", database_url, str(SIZES["w4_megabytes"]))
        restored = _large_state(name, "restore", database_url, saved["key"])
        results[name] = {
            "save_s": saved["seconds"],
            "restore_s": restored["seconds"],
            "save_peak_over_state": saved["peak_over_state"],
            "restore_peak_over_state": restored["peak_over_state"],
        }
    return results


async def _ours_only(database_url: str) -> dict[str, dict[str, float]]:
    engine = create_engine(database_url, Settings(database_url=database_url))
    try:
        return {
            "w3": await w3_history(engine, database_url, SIZES["w3_messages"], SIZES["w3_repeat"]),
            "w5": await w5_bulk_messages(engine, SIZES["w5_messages"]),
            "w6": await w6_list(engine, SIZES["w6_conversations"], SIZES["w3_repeat"]),
        }
    finally:
        await engine.dispose()


async def run() -> dict[str, Any]:
    database_url = await fresh_database(server_url())
    print(f"benchmark database ready ({'quick' if QUICK else 'full'} sizes: {SIZES})", file=sys.stderr)
    results: dict[str, Any] = {"w1": await _w1(database_url), "w1_floor": await _w1_call_floor(database_url)}
    print("W1 done", file=sys.stderr)
    results["w1_research"] = await _w1_research(database_url)
    print("W1 research agent done", file=sys.stderr)
    results["statements"] = await statements_per_turn(database_url, SIZES["statement_turns"])
    with behind_latency(database_url, ONE_WAY_MS) as distant:
        # The in-memory saver does not talk to the database: W1 is its ceiling.
        results["w1_latency"] = await _w1(distant, ("ours", "stock"))
    print("W1 behind latency done", file=sys.stderr)
    results["w2"] = await _w2(database_url)
    print("W2 done", file=sys.stderr)
    results.update(await _ours_only(database_url))
    print("W3, W5, W6 done", file=sys.stderr)
    results["w4"] = await asyncio.to_thread(_w4, database_url)
    print("W4 done", file=sys.stderr)
    results["w7"] = await w7_operator_commands(database_url)
    results["w8"] = await w8_http(database_url, SIZES["w1_conversations"], SIZES["w8_turns"])
    results["w8_recall"] = await w8_recall(
        database_url,
        SIZES["w1_conversations"],
        SIZES["w8_turns"],
        SIZES["w1_rounds"],
        SIZES["statement_turns"],
    )
    print("W8 recall pair done", file=sys.stderr)
    results.update(await _w9(database_url))
    # Last: it seeds its own users and items (BENCH_W10_ITEMS, _USERS, _HEAVY).
    results["w10"] = await w10_memory(database_url)
    print("W10 memory done", file=sys.stderr)
    return results


async def _w9(database_url: str) -> dict[str, Any]:
    engine = create_engine(database_url, Settings(database_url=database_url))
    try:
        searched = await w9_search(engine, database_url, SIZES["w9_messages"], SIZES["w9_repeat"])
    finally:
        await engine.dispose()
    print("W9 search done", file=sys.stderr)
    cost = await w9_write_cost(
        database_url, SIZES["w1_conversations"], SIZES["w9_write_turns"], SIZES["w1_rounds"]
    )
    return {"w9": searched, "w9_write_cost": cost}


def main() -> None:
    results = asyncio.run(run())
    meta = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "server": "BENCH_DATABASE_URL" if os.environ.get("BENCH_DATABASE_URL") else "embedded PostgreSQL",
        "sizes": SIZES,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print_table(results, meta)
    plot(results, RESULTS / "w2_long_conversation.png")


if __name__ == "__main__":
    main()
