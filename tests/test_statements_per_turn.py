"""What one JSON chat turn costs the database, counted on the wire in front of
the server: a budget that a change must not exceed without saying why."""

from benchmarks.workloads import statements_per_turn

# Authentication 3 (a read in a transaction of its own; 1 with
# DB_PREPARED_STATEMENTS=true, a direct connection); the run's start 6 (BEGIN,
# the conversation locked with whether a run is active, the run, its
# counters, the messages and the reply's place in one INSERT, COMMIT); the
# saver 10 (the state read in 3, then two steps' checkpoints, blobs and
# writes); the run's end 7 (BEGIN, the run ended with whether a queue waits,
# the reply, the counters, the user's message dated, its events, COMMIT).
BUDGET = 26


async def test_a_json_turn_stays_within_its_statement_budget(database_url: str) -> None:
    counted = await statements_per_turn(database_url, turns=3)
    assert counted["statements_per_turn"] <= BUDGET, counted
