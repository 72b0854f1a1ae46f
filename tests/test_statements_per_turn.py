"""What one JSON chat turn costs the database, counted on the wire in front of
the server: a budget that a change must not exceed without saying why."""

from benchmarks.workloads import statements_per_turn

# 25 a turn. The request's authentication is a transaction of its own, 3:
# BEGIN, the caller found by its token, COMMIT. The admission's, 9: BEGIN, the
# user's assistant the conversation keeps, if any (its config and context as
# the turn runs them, read each turn as an Agent Server run reads its
# assistant's; decision 0024), the conversation locked with whether a run is
# active, the state read in 3 to see whether the graph waits at an interrupt
# (any graph may call interrupt(), so every run checks: a message must not run
# past a question), the run, the user's message and the reply's place counted
# in one INSERT, COMMIT. The graph does not read its state again as it starts:
# the saver answers that read from the admission's
# (`persistence/primed_reads.py`). The chat agent's recall 2 where the
# database has pgvector: whether the user has so many memories that the HNSW
# index should rank them, counted no further than that, then the memories
# closest to the message, ranked one way or the other; 1 without pgvector:
# the newest (decision 0025). The saver's writes 7: two steps' checkpoints, blobs and
# writes. The run's end 4: BEGIN, the reply finished and counted, the run
# ended with its events and its messages dated (saying whether a queue waits),
# COMMIT. Once within the three turns measured, a pool connection meets a type
# for the first time and asyncpg looks it up (3 statements): 26 on average.
BUDGET = 26


async def test_a_json_turn_stays_within_its_statement_budget(database_url: str) -> None:
    counted = await statements_per_turn(database_url, turns=3)
    assert counted["statements_per_turn"] <= BUDGET, counted
