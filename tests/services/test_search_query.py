"""How a typed search splits into websearch words and a prefix."""

import pytest

from app.services.search.query import EmptyQuery, SearchQuery, parse_query


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("dura", SearchQuery("", "dura")),
        ("durable mem", SearchQuery("durable ", "mem")),
        ("durable ", SearchQuery("durable ", "")),
        ('"durable mem"', SearchQuery('"durable mem"', "")),
        ('"durable mem', SearchQuery('"durable mem', "")),
        ("durable -mem", SearchQuery("durable -mem", "")),
        ("durable or", SearchQuery("durable or", "")),
        ("durable or mem", SearchQuery("durable ", "mem", either=True)),
        ("snake_case", SearchQuery("snake_case", "")),
        ("-", SearchQuery("", "")),
        ('or "" -', SearchQuery("", "")),
    ],
)
def test_the_last_word_is_a_prefix_while_it_is_typed(typed: str, parsed: SearchQuery) -> None:
    assert parse_query(typed) == parsed


def test_operators_alone_search_nothing_and_blank_is_refused() -> None:
    assert parse_query("- or").empty
    with pytest.raises(EmptyQuery):
        parse_query("  ")
