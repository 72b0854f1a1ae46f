"""A `varchar` column whose values are a `StrEnum`'s: read back as members,
so the code compares and writes members, never bare strings. The allowed
values are kept by a CHECK constraint the model names, not a PostgreSQL enum
type (adding a value stays a constraint swap, not an `ALTER TYPE`)."""

from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E]):
    impl = String(16)
    cache_ok = True

    def __init__(self, enum: type[E]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        # A string still binds (a query built from a request's text): it is checked here.
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)
