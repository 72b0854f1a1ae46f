"""langgraph.json's `store.index`, as the LangGraph CLI's server reads it:
`embed` (a LangChain `provider:model`), `dims`, and `fields` (the JSON paths
embedded when a put names none). Where the file has one, it sets the model
the store embeds with, over STORE_EMBEDDINGS, STORE_EMBEDDINGS_DIMS and
STORE_INDEX_FIELDS: the file is the graphs' configuration, as on the Agent
Server. An embedding function named by file path is refused: only models
LangChain builds by name are loaded.
"""

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.config import StoreSettings
from app.services.store.checks import check_index
from app.services.store.errors import InvalidStoreInput


class StoreIndexError(ValueError):
    """The file's `store.index` cannot be used: said in one line that names the file."""

    def __init__(self, path: Path, cause: str) -> None:
        super().__init__(f'{path}: "store.index": {cause}')


def _embed(path: Path, embed: object) -> str:
    if not isinstance(embed, str) or ":" not in embed:
        raise StoreIndexError(path, f'"embed" must be a LangChain "provider:model", not {embed!r}')
    if "/" in embed or ".py:" in embed:
        raise StoreIndexError(
            path, f'"embed" {embed!r} names a function by path: only "provider:model" names are loaded'
        )
    return embed


def with_index(settings: StoreSettings, store: Any, path: Path) -> StoreSettings:
    """`settings` with the file's `store` section's `index` (read from `path`) applied."""
    if store is None:
        return settings
    if not isinstance(store, dict):
        raise StoreIndexError(path, '"store" must be an object')
    index = store.get("index")
    if index is None:
        return settings
    if not isinstance(index, dict):
        raise StoreIndexError(path, 'expected an object of "embed", "dims" and "fields"')
    dims = index.get("dims")
    if isinstance(dims, bool) or not isinstance(dims, int):
        raise StoreIndexError(path, f'"dims" must be a whole number, not {dims!r}')
    fields = index.get("fields")
    if fields is not None and not isinstance(fields, list):
        raise StoreIndexError(path, f'"fields" must be a list of JSON paths, not {fields!r}')
    try:
        checked = check_index(fields) if fields is not None else None
        return StoreSettings(
            **{
                **settings.model_dump(),
                "embeddings": _embed(path, index.get("embed")),
                "embeddings_dims": dims,
                "index_fields": checked or None,
            }
        )
    except InvalidStoreInput as exc:
        raise StoreIndexError(path, f'"fields": {exc}') from None
    except ValidationError as exc:
        causes = (str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
        raise StoreIndexError(path, "; ".join(causes)) from None
