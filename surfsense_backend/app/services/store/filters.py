"""A search's `filter` as SQL over the stored JSON value.

The stock store compares a range operator's operands as text, so
`{"score": {"$gt": 9}}` misses 10 ("10" < "9"); here a number compares with
numbers as numbers and a string with strings as strings (code point order,
as Python's), and a value of the other type never matches. Keys are paths:
`"a.b"` is the value's `a` object's `b`. A filter value that is not an
object of operators is `$eq`.
"""

import math
from collections.abc import Mapping
from typing import Any

from psycopg.types.json import Jsonb

from app.services.store.checks import check_json, check_text
from app.services.store.errors import InvalidStoreInput

_RANGE = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
OPERATORS = ("$eq", "$ne", *_RANGE, "$in")


def _path(key: object) -> list[str]:
    text = check_text("A filter key", key)
    parts = text.split(".")
    if not all(parts):
        raise InvalidStoreInput(f"The filter key {text!r} has an empty part.")
    return parts


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json(value: Any, key: str) -> Jsonb:
    check_json(value, f"filter {key!r}")
    return Jsonb(value)


def _condition(path: list[str], key: str, operator: str, operand: Any) -> tuple[str, list[Any]]:
    at = "store.value #> %s"
    if operator == "$eq":
        return f"({at}) = %s", [path, _json(operand, key)]
    if operator == "$ne":
        return f"({at}) IS DISTINCT FROM %s", [path, _json(operand, key)]
    if operator == "$in":
        if not isinstance(operand, list):
            raise InvalidStoreInput(f"$in of filter {key!r} takes a list, not {type(operand).__name__}.")
        return f"({at}) IN (SELECT jsonb_array_elements(%s))", [path, _json(operand, key)]
    sign = _RANGE[operator]
    if _is_number(operand):
        if not math.isfinite(operand):
            raise InvalidStoreInput(f"{operator} of filter {key!r} takes a finite number.")
        sql = (
            f"CASE WHEN jsonb_typeof({at}) = 'number' THEN ({at})::numeric {sign} %s::numeric ELSE false END"
        )
        return sql, [path, path, operand]
    if isinstance(operand, str):
        check_text(f"{operator} of filter {key!r}", operand)
        sql = (
            f"CASE WHEN jsonb_typeof({at}) = 'string'"
            f' THEN (store.value #>> %s) COLLATE "C" {sign} %s ELSE false END'
        )
        return sql, [path, path, operand]
    raise InvalidStoreInput(
        f"{operator} of filter {key!r} compares a number or a string, not {type(operand).__name__}."
    )


def filter_sql(given: object) -> tuple[str, list[Any]]:
    """The filter as one SQL condition on `store.value` and its parameters
    (`TRUE` for none); InvalidStoreInput for an unknown operator or a wrong type."""
    if given is None:
        return "TRUE", []
    if not isinstance(given, Mapping):
        raise InvalidStoreInput(f"A filter must be an object, not {type(given).__name__}.")
    clauses: list[str] = []
    params: list[Any] = []
    for key, wanted in given.items():
        path = _path(key)
        operators = (
            wanted if isinstance(wanted, Mapping) and any(str(k).startswith("$") for k in wanted) else None
        )
        pairs = operators.items() if operators is not None else [("$eq", wanted)]
        for operator, operand in pairs:
            if operator not in OPERATORS:
                raise InvalidStoreInput(
                    f"The filter {key!r} has the operator {operator!r}; known: {', '.join(OPERATORS)}."
                )
            clause, values = _condition(path, key, operator, operand)
            clauses.append(clause)
            params.extend(values)
    return (" AND ".join(clauses) or "TRUE"), params
