"""What a person types into the search box, as PostgreSQL's full-text search
takes it: `websearch_to_tsquery` for the words (quotes, `or`, `-word`), and
the last word also as a prefix while it is being typed."""

import re
from dataclasses import dataclass

from app.errors import InvalidRequest

MAX_QUERY_CHARS = 500
# A last word of letters and digits only: safe inside to_tsquery's syntax.
_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'[^\s"]+')


class EmptyQuery(InvalidRequest):
    def __init__(self) -> None:
        super().__init__("q: type at least one word to search for.")


@dataclass(frozen=True)
class SearchQuery:
    # For websearch_to_tsquery.
    words: str
    # The last word, matched as a prefix (search as you type); "" when there is none.
    prefix: str
    # The prefix is an alternative to the words (`a or b`), not one more word they need.
    either: bool = False

    @property
    def empty(self) -> bool:
        """Nothing to search for: operators alone (`-`, `or`, `""`)."""
        return not self.words.strip() and not self.prefix


def parse_query(q: str) -> SearchQuery:
    """The last word goes apart as a prefix unless it is quoted, negated, an
    `or`, or followed by a space (the person finished typing it)."""
    if not q.strip():
        raise EmptyQuery
    if all(token.lstrip("-").lower() in ("", "or") for token in _TOKEN.findall(q)):
        return SearchQuery("", "")
    last = q.rsplit(maxsplit=1)[-1]
    typing = not q[-1].isspace() and q.count('"') % 2 == 0 and last.lower() != "or"
    if not (typing and _WORD.fullmatch(last)):
        return SearchQuery(q, "")
    words = q[: len(q) - len(last)]
    before = words.rsplit(maxsplit=1)
    if before and before[-1].lower() == "or":
        return SearchQuery(words.rstrip()[: -len("or")], last, either=True)
    return SearchQuery(words, last)
