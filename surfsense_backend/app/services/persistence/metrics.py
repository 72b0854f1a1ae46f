"""What the persistence layer counts and times, for Prometheus."""

from prometheus_client import Counter, Histogram

CHECKPOINT_SECONDS = Histogram(
    "surfsense_checkpoint_operation_seconds",
    "Time of the saver's operations, retries included.",
    ["operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DB_RETRIES = Counter(
    "surfsense_db_retries_total", "Transient database faults that were retried.", ["operation"]
)
DB_OUTAGES = Counter(
    "surfsense_db_outages_total", "Operations that failed for the database after every retry.", ["operation"]
)
