"""Text that request bodies, forms, paths and queries may carry into the database."""

from typing import Annotated

from pydantic import AfterValidator

from app.db.text import unstorable


def _storable(value: str) -> str:
    if reason := unstorable(value):
        raise ValueError(f"Text {reason}.")
    return value


StoredText = Annotated[str, AfterValidator(_storable)]
