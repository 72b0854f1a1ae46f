"""Which of a user's conversations a listing or a search covers."""

from typing import Literal

ArchivedFilter = Literal["false", "true", "all"]
