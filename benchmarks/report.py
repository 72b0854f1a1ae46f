"""The benchmark's table (for docs/performance.md) and its picture."""

from pathlib import Path
from typing import Any

_ROWS: list[tuple[str, str, str, str, str]] = [
    # workload, result key, metric key, label, the run shown as "ours"
    ("W1 throughput, 50 conversations", "w1", "turns_per_s", "turns/s (higher is better)", "ours"),
    ("", "w1", "p50_ms", "turn p50, ms", "ours"),
    ("", "w1", "p99_ms", "turn p99, ms", "ours"),
    ("", "w1", "cpu_ms_per_turn", "CPU of the app process a turn, ms", "ours"),
    ("", "w1", "db_calls_per_turn", "database calls a turn", "ours"),
    (
        "W1, research agent (search, subgraph, interrupt, resume)",
        "w1_research",
        "turns_per_s",
        "turns/s (higher is better)",
        "ours",
    ),
    ("", "w1_research", "p50_ms", "turn p50, ms", "ours"),
    ("", "w1_research", "p99_ms", "turn p99, ms", "ours"),
    ("", "w1_research", "cpu_ms_per_turn", "CPU of the app process a turn, ms", "ours"),
    ("", "w1_research", "db_calls_per_turn", "saver database calls a turn", "ours"),
    (
        "W1, database 2 ms away (round trip)",
        "w1_latency",
        "turns_per_s",
        "turns/s (higher is better)",
        "ours",
    ),
    ("", "w1_latency", "p50_ms", "turn p50, ms", "ours"),
    ("", "w1_latency", "p99_ms", "turn p99, ms", "ours"),
    ("W2 one long conversation", "w2", "last_first_latency_ratio", "last/first turn latency", "ours"),
    ("", "w2", "first_turns_ms", "first turns, median ms", "ours"),
    ("", "w2", "last_turns_ms", "last turns, median ms", "ours"),
    ("", "w2", "storage_per_text_byte", "bytes stored / text byte", "ours"),
    ("", "w2", "retained_per_text_byte", "bytes kept after the retention sweep / text byte", "ours"),
    (
        "W2, the whole conversation in the agent's state",
        "w2",
        "last_first_latency_ratio",
        "last/first turn latency",
        "ours_whole_state",
    ),
    ("", "w2", "last_turns_ms", "last turns, median ms", "ours_whole_state"),
    ("", "w2", "storage_per_text_byte", "bytes stored / text byte", "ours_whole_state"),
    ("W4 large state", "w4", "save_s", "save, s", "ours"),
    ("", "w4", "restore_s", "restore, s", "ours"),
    ("", "w4", "save_peak_over_state", "peak memory saving / state size", "ours"),
    ("", "w4", "restore_peak_over_state", "peak memory restoring / state size", "ours"),
]

_OURS_ONLY: list[tuple[str, str, str, str]] = [
    ("W3 history, 10,000 messages", "w3", "storage_newest_ms", "newest page, ConversationStorage, ms"),
    ("", "w3", "storage_deep_ms", "deep page, ConversationStorage, ms"),
    ("", "w3", "http_newest_ms", "newest page, HTTP, ms"),
    ("", "w3", "http_deep_ms", "deep page, HTTP, ms"),
    ("W5 bulk", "w5", "seconds", "1,000 messages, save_messages, s"),
    ("", "w5", "one_by_one_seconds", "1,000 messages, save_message each, s"),
    ("W6 list, 1,000 conversations", "w6", "first_page_ms", "first page, ms"),
    ("W7 operator commands", "w7", "stats_s", "surfsense-db stats, s"),
    ("", "w7", "prune_dry_run_s", "surfsense-db prune --dry-run, s"),
]


_W8_RECALL_SIDES = {
    "ours_recall": "with recall",
    "ours_no_recall": "without (CHAT_MEMORY=off)",
    "ours_no_recall_as_long": "without, as long a reply",
}

_W2_CURVES = {
    "ours": "ours",
    "ours_whole_state": "ours, whole conversation in state",
    "stock": "stock",
    "memory": "in-memory",
}


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def table(results: dict[str, Any]) -> str:
    lines = [
        "| workload | metric | ours | stock | in-memory | ours/stock |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for workload, key, metric, label, ours_as in _ROWS:
        by_config = results[key]
        ours, stock = by_config[ours_as][metric], by_config["stock"].get(metric)
        memory = by_config.get("memory", {}).get(metric) if ours_as == "ours" else None
        ratio = ours / stock if ours is not None and stock else None
        lines.append(
            f"| {workload} | {label} | {_cell(ours)} | {_cell(stock)} | {_cell(memory)} | {_cell(ratio)} |"
        )
    for workload, key, metric, label in _OURS_ONLY:
        lines.append(f"| {workload} | {label} | {_cell(results[key][metric])} | - | - | - |")
    return "\n".join(lines)


def print_table(results: dict[str, Any], meta: dict[str, Any]) -> None:
    print(f"\n`make bench`, {meta['when']}, {meta['machine']}, {meta['server']}\n")
    print(table(results))
    w1, distant = results["w1"], results["w1_latency"]
    print(
        f"\nW1: ours/stock {w1['ours']['turns_per_s'] / w1['stock']['turns_per_s']:.2f}x, "
        f"ours/in-memory {w1['ours']['turns_per_s'] / w1['memory']['turns_per_s']:.0%}; "
        f"2 ms away: ours/stock {distant['ours']['turns_per_s'] / distant['stock']['turns_per_s']:.2f}x, "
        f"ours/in-memory {distant['ours']['turns_per_s'] / w1['memory']['turns_per_s']:.0%}"
    )
    print(_w1_floor(results))
    sent = results["statements"]
    print(
        f"Statements a JSON turn of the chat agent, through the routes, counted on the wire: "
        f"{sent['statements_per_turn']:.1f} ({sent['simple_queries_per_turn']:.1f} simple queries, "
        f"{sent['executes_per_turn']:.1f} extended-protocol executes)"
    )
    print(_w8(results["w8"]))
    print(w8_recall_table(results["w8_recall"]))
    print(_w9(results["w9"], results["w9_write_cost"]))
    print(w10_table(results["w10"]))


def _w9(w9: dict[str, Any], cost: dict[str, float]) -> str:
    """W9's rows: search latency for the user with 10,000 of the million
    messages, each query's plan, and the write cost of the index."""
    lines = [
        f"\n| W9, search: {w9['messages']:,} messages, {w9['users']:,} users, the user with "
        f"{w9['user_messages']:,} | p50 ms | p95 ms | hits on page 1 | plan (scans) |",
        "|---|---:|---:|---:|---|",
    ]
    for name, m in w9.items():
        if isinstance(m, dict):
            lines.append(
                f"| {name} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} | {m['hits_on_first_page']} "
                f"| {'; '.join(m['plan'])} |"
            )
    lines.append(
        f"W9 write cost: JSON chat turns through the routes, {cost['turns_per_s_with']:.1f} turns/s "
        f"with the search trigger and index, {cost['turns_per_s_without']:.1f} without: "
        f"{cost['cost_pct']:.1f}% slower"
    )
    return "\n".join(lines)


def w10_table(w10: dict[str, Any]) -> str:
    """W10's rows: the heavy user's searches on both stores, their result
    counts, recall against the exact top k, and the plans; then puts/s."""
    lines = [
        f"\n| W10, memory: {w10['items']:,} items, {w10['users']:,} users, the user with "
        f"{w10['user_items']:,} | store | p50 ms | p95 ms | results (min / mean of {w10['k']}) "
        f"| recall@{w10['k']} | answered by the index | plan (scans) |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for shape in ("query", "filter", "both"):
        for name, m in w10[shape].items():
            recall = "-" if m["recall_at_k"] is None else f"{m['recall_at_k']:.2f}"
            by_index = f"{m['by_index']:.0%}" if "by_index" in m else "-"
            lines.append(
                f"| {shape} | {name} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} "
                f"| {m['results_min']} / {m['results_mean']:.1f} | {recall} | {by_index} "
                f"| {'; '.join(m['plan'])} |"
            )
    puts = w10["puts_per_s"]
    lines.append(
        f"W10 puts (embedded, one at a time): ours {puts['ours']:.0f}/s, stock {puts['stock']:.0f}/s"
    )
    return "\n".join(lines)


def _w8(w8: dict[str, Any]) -> str:
    """W8's rows: turns/s through HTTP, the ratios the issue asks for, and where the CPU went."""
    lines = [
        "\n| W8, 50 conversations over HTTP | kind | turns/s | p50 ms | p99 ms | server CPU ms/turn "
        "| client CPU ms/turn | machine busy |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, kinds in w8.items():
        for kind, m in kinds.items():
            lines.append(
                f"| {name} | {kind} | {m['turns_per_s']:.1f} | {m['p50_ms']:,.0f} | {m['p99_ms']:,.0f} "
                f"| {m['server_cpu_ms_per_turn']:.1f} | {m['client_cpu_ms_per_turn']:.1f} "
                f"| {m['machine_busy']:.0%} |"
            )
    for kind in ("json", "streamed"):
        rate = {name: w8[name][kind]["turns_per_s"] for name in w8}
        lines.append(
            f"W8 {kind}: ours/stock {rate['ours'] / rate['stock']:.2f}x, ours/in-memory "
            f"{rate['ours'] / rate['memory']:.0%}, "
            f"2 workers/1 {rate['ours_2_workers'] / rate['ours_1_worker']:.2f}x"
        )
    return "\n".join(lines)


def w8_recall_table(pair: dict[str, Any]) -> str:
    """The recall pair's rows: W8's JSON turns with the chat agent recalling
    from the user's memories, without, and without but with as long a reply;
    then what recall costs a turn against each."""
    lines = [
        f"\n| W8 recall pair, JSON, 50 conversations, {pair['memories_each']} memories a user, "
        f"medians of {pair['rounds']} rounds | turns/s | p50 ms | p99 ms | server CPU ms/turn "
        "| memories recalled/turn | statements/turn |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label in _W8_RECALL_SIDES.items():
        m = pair[name]
        statements = m.get("statements_per_turn")
        lines.append(
            f"| {label} | {m['turns_per_s']:.1f} | {m['p50_ms']:,.0f} | {m['p99_ms']:,.0f} "
            f"| {m['server_cpu_ms_per_turn']:.1f} | {m['recalled_per_turn']:.1f} "
            f"| {'-' if statements is None else f'{statements:.2f}'} |"
        )
    for against in ("ours_no_recall", "ours_no_recall_as_long"):
        m = pair[against]
        lines.append(
            f"W8 recall over {_W8_RECALL_SIDES[against]}, the median of each round's: "
            f"{m['recall_turns_per_s_ratio']:.2f}x the turns/s (target at least 0.90x), "
            f"{m['recall_server_cpu_ratio']:.2f}x the server's CPU a turn"
        )
    return "\n".join(lines)


def _w1_floor(results: dict[str, Any]) -> str:
    """The share of the in-memory ceiling a saver making ours's database calls
    could reach if each cost no more CPU than a bare `SELECT 1` through the pool."""
    ours, memory = results["w1"]["ours"], results["w1"]["memory"]
    floor_ms = ours["db_calls_per_turn"] * results["w1_floor"]["bare_call_cpu_us"] / 1000
    bound = memory["cpu_ms_per_turn"] / (memory["cpu_ms_per_turn"] + floor_ms)
    return (
        f"W1 floor: {ours['db_calls_per_turn']:.1f} database calls a turn x "
        f"{results['w1_floor']['bare_call_cpu_us']:.0f} us of CPU for a bare SELECT 1 through the pool = "
        f"{floor_ms:.2f} ms a turn, against {memory['cpu_ms_per_turn']:.2f} ms for a whole in-memory turn: "
        f"at most {bound:.0%} of in-memory; ours costs "
        f"{ours['cpu_ms_per_turn'] - memory['cpu_ms_per_turn']:.2f} ms above it"
    )


def plot(results: dict[str, Any], path: Path) -> None:
    """Turn latency and stored bytes against conversation length (W2)."""
    try:
        import matplotlib  # noqa: PLC0415 - only `make bench` installs it

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print("matplotlib is not installed: no plot (make bench installs it)")
        return
    fig, (latency, storage) = plt.subplots(1, 2, figsize=(11, 4))
    for name, label in _W2_CURVES.items():
        curve = results["w2"][name]["curve"]
        turns = [point[0] for point in curve]
        latency.plot(turns, [point[1] for point in curve], marker="o", label=label)
        if name != "memory":
            storage.plot(turns, [point[2] / 1e6 for point in curve], marker="o", label=label)
    latency.set(title="Turn latency (median of each tenth)", xlabel="turn", ylabel="ms")
    storage.set(title="Bytes stored for the conversation", xlabel="turn", ylabel="MB")
    for axes in (latency, storage):
        axes.legend()
        axes.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"plot: {path}")
