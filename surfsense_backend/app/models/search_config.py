"""The text search configuration messages and titles are indexed with.

One row. The triggers that keep the vectors read it, and so does every
search, so the two always agree; `python -m app search-reindex` changes it
(SEARCH_LANGUAGE) and indexes the history again, without a migration.
"""

from sqlalchemy import Boolean, CheckConstraint, text, true
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class SearchConfig(Base):
    __tablename__ = "search_config"
    __table_args__ = (CheckConstraint("id", name="one_row"),)

    id: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=true())
    language: Mapped[str] = mapped_column(REGCONFIG, server_default=text("'simple'"))
