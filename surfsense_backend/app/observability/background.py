"""Work that runs beside requests (the retention sweep, chat runs, progress
writes): a failure there has no response to carry it, so it is logged once
with its cause and counted, and the work carries on where it can."""

import logging

from prometheus_client import Counter

BACKGROUND_FAILURES = Counter(
    "surfsense_background_failures_total",
    "Failures of background work, by task; each is also logged once with its cause.",
    ["task"],
)


def background_failed(logger: logging.Logger, task: str, message: str, exc: BaseException) -> None:
    """Count the failure of `task` and log it at ERROR with its traceback."""
    BACKGROUND_FAILURES.labels(task).inc()
    logger.error("%s", message, exc_info=exc)
