"""What the store counts, for Prometheus (/metrics)."""

from prometheus_client import Counter

STORE_OPERATIONS = Counter(
    "surfsense_store_operations_total",
    "Store operations run for a user (graphs and both APIs), by kind.",
    ["operation"],
)
STORE_ITEMS_EXPIRED = Counter(
    "surfsense_store_items_expired_total", "Store items past their TTL that the retention sweep deleted."
)
