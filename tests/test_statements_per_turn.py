"""What one JSON chat turn costs the database, counted on the wire in front of
the server: a budget that a change must not exceed without saying why."""

from benchmarks.workloads import statements_per_turn

# The request's transaction 6: BEGIN, the caller found by its token, the
# conversation locked with whether a run is active, the run, the user's
# message and the reply's place counted in one INSERT, COMMIT. The saver 13:
# the state read in 3 as the run starts, to see whether the graph waits at an
# interrupt (any graph may call interrupt(), so every run checks: a message
# must not run past a question), read again in 3 by the graph itself as it
# starts (LangGraph reads its checkpoint; we do not hand it ours), then two
# steps' checkpoints, blobs and writes. The run's end 4: BEGIN, the reply
# finished and counted, the run ended with its events and its messages dated
# (saying whether a queue waits), COMMIT.
BUDGET = 23


async def test_a_json_turn_stays_within_its_statement_budget(database_url: str) -> None:
    counted = await statements_per_turn(database_url, turns=3)
    assert counted["statements_per_turn"] <= BUDGET, counted
