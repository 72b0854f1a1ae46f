"""W8's recall pair: a JSON chat turn with the chat agent's recall doing real
work against the same turn without it (issue 27: at most 10% slower).

With recall, each benchmark user has `MEMORIES` stored before its turns,
put through the store (embedded as the agent embeds them), so every turn's
search ranks fifty of them by meaning and the model gets three; without,
the server runs with CHAT_MEMORY=off; and a control without recall whose
reply is as long as recall's (`AS_LONG`). Both servers are up at once and
the sides measured in turn, round by round, as W8's JSON turns; the ratios
are the median of each round's. The statements a turn sends are counted
with recall and without, on the wire, in-process.

    python -m benchmarks.w8_recall [rounds] [turns]
"""

import asyncio
import json
import os
import statistics
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any

from app.config import get_settings
from benchmarks.database import fresh_database, server_url
from benchmarks.w8_http import TEXT, serving, throughput
from benchmarks.workloads import statements_per_turn

# What people ask a chat assistant to remember: fifty facts, one user's.
MEMORIES = (
    "My name is Dana and I use she/her pronouns.",
    "I live in Lyon, near the Croix-Rousse hill.",
    "I work as a backend engineer at a logistics company.",
    "My manager is called Priya.",
    "I am allergic to peanuts and cashews.",
    "I am vegetarian but I eat eggs.",
    "My favourite colour is teal.",
    "My sister Ana lives in Lisbon with her two kids.",
    "My daughter's birthday is on the 14th of March.",
    "I have a cat called Miso who is eleven years old.",
    "I prefer short answers with code examples.",
    "I write most of my code in Python and some in Go.",
    "Our production database is PostgreSQL 16 on a managed service.",
    "We deploy on Kubernetes with Argo CD.",
    "I am learning Japanese and practise every morning.",
    "I run on Tuesdays and Saturdays, about ten kilometres.",
    "I am training for the Lyon half marathon in October.",
    "My doctor told me to keep my coffee to two cups a day.",
    "I drink green tea in the afternoon.",
    "I cannot stand cilantro.",
    "My partner Sam is a nurse who works night shifts.",
    "We are planning a trip to Kyoto next spring.",
    "My passport expires in August next year.",
    "I take the train to work, the line C metro.",
    "My car is a 2015 Peugeot that needs new winter tyres.",
    "I play the piano, mostly Satie and Debussy.",
    "My team's stand-up is at 9:30 every weekday.",
    "I am on call the first week of every month.",
    "Our chat service keeps conversations in PostgreSQL and must survive restarts.",
    "I am writing a talk about durable memory for chat agents.",
    "My laptop is a ThinkPad running Fedora.",
    "I use Neovim with the LazyVim setup.",
    "I am reading a book about the history of the Silk Road.",
    "My favourite film is Spirited Away.",
    "I support Olympique Lyonnais.",
    "My mother's name is Helena and she lives in Porto.",
    "I grew up in Coimbra and moved to France at twenty.",
    "I speak Portuguese, French and English.",
    "My flat is on the fourth floor without a lift.",
    "I am saving for a cargo bike.",
    "Our rent is due on the fifth of each month.",
    "I volunteer at the food bank on the last Sunday of the month.",
    "I prefer meetings in the morning, never after 4 pm.",
    "I dislike being called by my full name, Daniela.",
    "My GitHub username is dana-codes.",
    "I want reminders to stretch every hour when I work.",
    "I am lactose intolerant.",
    "Our staging environment resets every night at 2 am.",
    "I keep my notes in Obsidian, one folder per project.",
    "I want to migrate our agents' long-term memory to pgvector this quarter.",
)
# The offline model says back what it recalled ("I remember: a; b; c."), so
# a turn with recall streams a reply about 36 words longer. The control says
# that much more, so its reply (which quotes the message) is as long: with
# recall against it is what recall itself costs.
AS_LONG = TEXT + " I remember: " + "; ".join(MEMORIES[i] for i in (29, 49, 28))  # the three TEXT recalls
# side: (server, what each turn says, the memories its user has)
SIDES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "ours_recall": ("ours_recall", TEXT, MEMORIES),
    "ours_no_recall": ("ours_no_recall", TEXT, ()),
    "ours_no_recall_as_long": ("ours_no_recall", AS_LONG, ()),
}


@contextmanager
def _chat_memory(value: str) -> Iterator[None]:
    """CHAT_MEMORY for the apps this process starts meanwhile (the settings
    are read once and cached: the cache is cleared on the way in and out)."""
    before = os.environ.get("CHAT_MEMORY")
    os.environ["CHAT_MEMORY"] = value
    get_settings.cache_clear()
    try:
        yield
    finally:
        if before is None:
            del os.environ["CHAT_MEMORY"]
        else:
            os.environ["CHAT_MEMORY"] = before
        get_settings.cache_clear()


async def _statements(database_url: str, turns: int) -> dict[str, dict[str, float]]:
    counted = {}
    for name, value, memories in (("ours_recall", "on", MEMORIES), ("ours_no_recall", "off", ())):
        with _chat_memory(value):
            counted[name] = await statements_per_turn(database_url, turns, memories)
    return counted


def _paired(runs: dict[str, list[dict[str, float]]], against: str, key: str) -> float:
    """The median over rounds of with recall's `key` over `against`'s in the
    same round: they ran back to back, so a neighbour's load, which drifts
    over minutes on a shared machine, weighs on both alike."""
    pairs = zip(runs["ours_recall"], runs[against], strict=True)
    return statistics.median(with_[key] / other[key] for with_, other in pairs)


async def w8_recall(
    database_url: str, conversations: int, turns: int, rounds: int, statement_turns: int = 20
) -> dict[str, Any]:
    """Each side's W8 JSON metrics (medians over `rounds`, each round's
    turns/s), statements a turn with recall and without; and the paired
    ratios of turns/s and of server CPU a turn, with recall over each other side."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in SIDES}
    async with AsyncExitStack() as stack:
        servers = {
            name: await stack.enter_async_context(serving(name, database_url))
            for name in {server for server, _, _ in SIDES.values()}
        }
        for round_ in range(rounds):
            # The order turns each round: a drift weighs on no side alone.
            for name in (*SIDES,)[round_ % len(SIDES) :] + (*SIDES,)[: round_ % len(SIDES)]:
                server, text, memories = SIDES[name]
                runs[name].append(
                    await throughput(
                        servers[server], conversations, turns, streamed=False, memories=memories, text=text
                    )
                )
            print(f"W8 recall round {round_ + 1} of {rounds} done", file=sys.stderr)
    results: dict[str, Any] = {
        name: {key: statistics.median(run[key] for run in samples) for key in samples[0]}
        for name, samples in runs.items()
    }
    for name, samples in runs.items():
        results[name]["turns_per_s_rounds"] = [run["turns_per_s"] for run in samples]
    for name, counted in (await _statements(database_url, statement_turns)).items():
        results[name]["statements_per_turn"] = counted["statements_per_turn"]
    results["memories_each"] = len(MEMORIES)
    results["rounds"] = rounds
    for against in ("ours_no_recall", "ours_no_recall_as_long"):
        results[against]["recall_turns_per_s_ratio"] = _paired(runs, against, "turns_per_s")
        results[against]["recall_server_cpu_ratio"] = _paired(runs, against, "server_cpu_ms_per_turn")
    return results


async def _main(rounds: int, turns: int) -> dict[str, Any]:
    return await w8_recall(await fresh_database(server_url()), 50, turns, rounds)


if __name__ == "__main__":
    given = [int(a) for a in sys.argv[1:3]]
    rounds, turns = given + [6, 10][len(given) :]
    print(json.dumps(asyncio.run(_main(rounds, turns)), indent=2))
