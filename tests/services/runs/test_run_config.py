"""A run's config over its assistant's, as the Agent Server merges them."""

import pytest

from app.services.runs.run_config import ConfigAndContext, InvalidConfig, merged_config

ASSISTANT = {"configurable": {"model": "a", "prompt": "p"}, "tags": ["assistant"], "recursion_limit": 5}


def test_the_runs_values_go_over_its_assistants() -> None:
    config, context = merged_config(
        {"configurable": {"model": "b"}, "tags": ["run"]}, None, ASSISTANT, {"tone": "dry", "length": 1}
    )
    assert config == {
        "configurable": {"model": "b", "prompt": "p"},
        "tags": ["assistant", "run"],
        "recursion_limit": 5,
    }
    assert context == {"tone": "dry", "length": 1}


def test_a_context_is_mirrored_into_configurable_and_merged_over_the_assistants() -> None:
    config, context = merged_config(None, {"tone": "warm"}, {}, {"tone": "dry", "length": 1})
    assert config == {"configurable": {"tone": "warm"}}
    assert context == {"tone": "warm", "length": 1}


def test_nothing_given_is_nothing() -> None:
    assert merged_config(None, None) == ({}, None)


def test_the_servers_ids_are_dropped_and_its_internals_refused() -> None:
    config, _ = merged_config({"configurable": {"user_id": "x", "run_id": "y", "mine": 1}}, None)
    assert config == {"configurable": {"mine": 1}}
    with pytest.raises(InvalidConfig, match=r"configurable\.langgraph_auth_permissions"):
        merged_config({"configurable": {"langgraph_auth_permissions": []}}, None)


def test_configurable_and_context_together_are_refused() -> None:
    with pytest.raises(ConfigAndContext):
        merged_config({"configurable": {"a": 1}}, {"b": 2})
    # An empty configurable beside a context is no conflict.
    assert merged_config({"configurable": {}}, {"b": 2})[1] == {"b": 2}
