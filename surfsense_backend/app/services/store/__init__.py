"""Long-term memory: LangGraph's store in PostgreSQL, private to each user."""

from app.services.store.errors import InvalidStoreInput
from app.services.store.repository import delete_expired
from app.services.store.store import AppStore, UserStore

__all__ = ["AppStore", "InvalidStoreInput", "UserStore", "delete_expired"]
