"""The store's embedding model: by default wordllama's bundled 256-dimension
model, loaded from its package folder, so search by meaning works offline
(no download, no network, no key); else any LangChain embeddings by name."""

from pathlib import Path

import wordllama
from langchain.embeddings import init_embeddings
from langchain_core.embeddings import Embeddings
from wordllama import WordLlama

from app.config import StoreSettings
from app.services.store.errors import ModelMismatch
from app.services.store.migrations import EMBEDDING_DIMS


class LocalEmbeddings(Embeddings):
    """LangChain's Embeddings over the model that ships inside the wheel."""

    def __init__(self) -> None:
        self._model = WordLlama.load(
            cache_dir=Path(wordllama.__file__).parent, disable_download=True, dim=EMBEDDING_DIMS
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._model.embed(texts)]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def model_dims(settings: StoreSettings) -> int:
    """The dimensions the configured model makes (a named model's as configured)."""
    if settings.embeddings == "local" or settings.embeddings_dims is None:
        return EMBEDDING_DIMS
    return settings.embeddings_dims


def load_embeddings(settings: StoreSettings) -> Embeddings:
    """The configured model (not `none`): built, not yet called."""
    if settings.embeddings == "local":
        return LocalEmbeddings()
    return init_embeddings(settings.embeddings, **settings.embeddings_options)


def sized(vectors: list[list[float]], dims: int) -> list[list[float]]:
    """`vectors` if the model made them of the `dims` it is configured for
    (the vector column's): others are one clear error, never a wrong ranking."""
    for vector in vectors:
        if len(vector) != dims:
            raise ModelMismatch(dims, len(vector))
    return vectors
