"""The store embedding with a LangChain model named as LangGraph names it
(`openai:text-embedding-3-small`), served by an OpenAI-compatible server
on loopback; and langgraph.json's `store.index` read into the same settings."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import StoreSettings, get_store_settings, psycopg_conninfo
from app.main import create_app
from app.services.persistence import MessageCheckpointer
from app.services.store import AppStore
from app.services.store.errors import EmbeddingFailed, VectorsMismatch
from app.services.store.index_config import StoreIndexError, with_index
from tests.factories import new_user
from tests.openai_compatible import OpenAICompatible


@pytest.fixture
async def model() -> AsyncIterator[OpenAICompatible]:
    async with OpenAICompatible(embedding_dims=256).serving() as server:
        yield server


def named(server: OpenAICompatible, **given: Any) -> StoreSettings:
    # No tiktoken: offline it would download its encoding on the first call.
    options = {"base_url": server.base_url, "api_key": "test", "check_embedding_ctx_length": False}
    return StoreSettings(
        embeddings="openai:text-embedding-3-small", embeddings_dims=256, embeddings_options=options, **given
    )


async def has_vectors(database_url: str) -> bool:
    async with await psycopg.AsyncConnection.connect(psycopg_conninfo(database_url)) as conn:
        row = await (await conn.execute("SELECT to_regclass('store_vectors') IS NOT NULL")).fetchone()
    return bool(row and row[0])


async def a_user(committed: async_sessionmaker[AsyncSession]) -> str:
    async with committed() as s:
        user = new_user()
        s.add(user)
        await s.commit()
    return str(user.id)


async def test_a_named_model_ranks_by_its_vectors(
    model: OpenAICompatible,
    checkpointer: MessageCheckpointer,
    committed: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    if not await has_vectors(database_url):
        pytest.skip("the server has no pgvector: the store does not search by meaning")
    assert checkpointer.pool is not None
    store = AppStore(checkpointer.pool, named(model, index_fields=["text"]))
    await store.open()
    try:
        user = store.for_user(await a_user(committed))
        await user.aput(("notes",), "fruit", {"text": "apples and pears", "tag": "zebra"})
        await user.aput(("notes",), "boat", {"text": "sailing the sea", "tag": "apples"})
        embedded = [r["input"] for r in model.requests if "input" in r]
        # Only the `text` field is embedded (STORE_INDEX_FIELDS), each put once.
        assert embedded == [["apples and pears"], ["sailing the sea"]]
        found = await user.asearch(("notes",), query="apples", limit=2)
        assert [item.key for item in found] == ["fruit", "boat"]
        scores = [item.score for item in found if item.score is not None]
        assert len(scores) == 2
        assert scores == sorted(scores, reverse=True)
        assert scores[0] != scores[1]
        assert model.requests[-1]["model"] == "text-embedding-3-small"
    finally:
        await store.close()


async def test_a_model_making_another_size_is_one_clear_error(
    checkpointer: MessageCheckpointer, committed: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    if not await has_vectors(database_url):
        pytest.skip("the server has no pgvector: no vectors are made")
    assert checkpointer.pool is not None
    async with OpenAICompatible(embedding_dims=8).serving() as wrong:
        store = AppStore(checkpointer.pool, named(wrong))
        await store.open()
        try:
            user = store.for_user(await a_user(committed))
            mismatch = "makes 8-dimension vectors, not the 256 configured"
            with pytest.raises(VectorsMismatch, match=mismatch) as failed:
                await user.asearch(("notes",), query="apples")
            assert failed.value.status_code == 502  # type: ignore[attr-defined]
        finally:
            await store.close()


async def test_a_model_that_is_down_is_a_502_not_ours(
    checkpointer: MessageCheckpointer, committed: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    if not await has_vectors(database_url):
        pytest.skip("the server has no pgvector: nothing is embedded")
    assert checkpointer.pool is not None
    async with OpenAICompatible().serving() as gone:
        store = AppStore(checkpointer.pool, named(gone))
        await store.open()
    try:  # the provider stopped after the start: a put and a search meet it down
        user = store.for_user(await a_user(committed))
        with pytest.raises(EmbeddingFailed) as failed:
            await user.aput(("notes",), "fruit", {"text": "apples"})
        assert failed.value.status_code == 502
        with pytest.raises(EmbeddingFailed):
            await user.asearch(("notes",), query="apples")
        assert await user.aget(("notes",), "fruit") is None  # nothing half-stored
    finally:
        await store.close()


async def test_the_app_embeds_as_its_graphs_file_says(
    model: OpenAICompatible,
    committed: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options = {"base_url": model.base_url, "api_key": "test", "check_embedding_ctx_length": False}
    monkeypatch.setenv("STORE_EMBEDDINGS_OPTIONS", json.dumps(options))
    get_store_settings.cache_clear()
    index = {"embed": "openai:text-embedding-3-small", "dims": 256, "fields": ["text"]}
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps({"graphs": {"chat": "app.agents.builtin:chat"}, "store": {"index": index}}))
    app = create_app(database_url, graphs_file=path)
    try:
        async with app.router.lifespan_context(app):
            store: AppStore = app.state.store
            assert (store.settings.embeddings, store.dims, store.settings.index_fields) == (
                "openai:text-embedding-3-small",
                256,
                ["text"],
            )
            if store.embeddings is None:
                pytest.skip("the server has no pgvector: the store embeds nothing")
            user = store.for_user(await a_user(committed))
            await user.aput(("notes",), "fruit", {"text": "apples", "colour": "green"})
            assert model.requests[-1]["input"] == ["apples"]
    finally:
        get_store_settings.cache_clear()


def test_a_named_model_needs_its_dimensions() -> None:
    with pytest.raises(ValueError, match="needs STORE_EMBEDDINGS_DIMS"):
        StoreSettings(embeddings="openai:text-embedding-3-small")
    with pytest.raises(ValueError, match="expected local, none or provider:model"):
        StoreSettings(embeddings="openai")


class TestGraphsFileIndex:
    def test_its_index_sets_the_model_dims_and_fields(self, tmp_path: Path) -> None:
        path = tmp_path / "langgraph.json"
        index = {"embed": "openai:text-embedding-3-small", "dims": 1536, "fields": ["text", "tags[*]"]}
        settings = with_index(StoreSettings(max_limit=7), {"index": index}, path)
        assert settings.embeddings == "openai:text-embedding-3-small"
        assert settings.embeddings_dims == 1536
        assert settings.index_fields == ["text", "tags[*]"]
        assert settings.max_limit == 7
        assert with_index(StoreSettings(), {"ttl": {"default_ttl": 5}}, path) == StoreSettings()

    @pytest.mark.parametrize(
        ("index", "cause"),
        [
            ({"embed": "./embed.py:embed", "dims": 8}, "names a function by path"),
            ({"embed": "openai", "dims": 8}, 'must be a LangChain "provider:model"'),
            ({"embed": "openai:m"}, '"dims" must be a whole number'),
            ({"embed": "openai:m", "dims": 0}, "greater than or equal to 1"),
            ({"embed": "openai:m", "dims": 8, "fields": "text"}, '"fields" must be a list'),
            ({"embed": "openai:m", "dims": 8, "fields": [""]}, "must not be empty"),
            ("openai:m", 'expected an object of "embed"'),
        ],
    )
    def test_an_unusable_index_is_one_line_naming_the_file(
        self, tmp_path: Path, index: object, cause: str
    ) -> None:
        path = tmp_path / "langgraph.json"
        path.write_text(json.dumps({"graphs": {"g": "m:g"}, "store": {"index": index}}))
        with pytest.raises(StoreIndexError) as caught:
            with_index(StoreSettings(), {"index": index}, path)
        said = str(caught.value)
        assert said.startswith(f'{path}: "store.index": ')
        assert cause in said
        assert "\n" not in said
