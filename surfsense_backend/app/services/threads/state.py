"""A graph's state as the Agent Server API writes it: `ThreadState`, its
checkpoints and interrupts, every value as JSON (a message as its fields)."""

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Interrupt, StateSnapshot

from app.services.runs.interrupts import jsonable


def checkpoint_json(config: RunnableConfig | None) -> dict[str, Any] | None:
    if not config:
        return None
    configurable = config.get("configurable", {})
    return {
        "thread_id": configurable.get("thread_id"),
        "checkpoint_ns": configurable.get("checkpoint_ns", ""),
        "checkpoint_id": configurable.get("checkpoint_id"),
        "checkpoint_map": configurable.get("checkpoint_map"),
    }


def interrupt_json(interrupt: Interrupt) -> dict[str, Any]:
    return {"value": jsonable(interrupt.value), "id": interrupt.id}


def interrupts_by_task(snapshot: StateSnapshot) -> dict[str, list[dict[str, Any]]]:
    """What a thread waits for, as `Thread.interrupts`: by the task that asked."""
    return {
        task.id: [interrupt_json(i) for i in task.interrupts] for task in snapshot.tasks if task.interrupts
    }


def values_json(snapshot: StateSnapshot) -> Any:
    """The graph's values as JSON: a message as its fields."""
    return jsonable(snapshot.values)


def state_json(snapshot: StateSnapshot) -> dict[str, Any]:
    return {
        "values": values_json(snapshot),
        "next": list(snapshot.next),
        "checkpoint": checkpoint_json(snapshot.config),
        "metadata": jsonable(snapshot.metadata or {}),
        "created_at": snapshot.created_at,
        "parent_checkpoint": checkpoint_json(snapshot.parent_config),
        "tasks": [
            {
                "id": task.id,
                "name": task.name,
                "error": task.error,
                "interrupts": [interrupt_json(i) for i in task.interrupts],
                "checkpoint": checkpoint_json(task.state) if isinstance(task.state, dict) else None,
                "state": state_json(task.state) if isinstance(task.state, StateSnapshot) else None,
                "result": jsonable(task.result),
            }
            for task in snapshot.tasks
        ],
        "interrupts": [interrupt_json(i) for i in snapshot.interrupts],
    }
