"""Users: the owners of conversations.

Columns follow fastapi-users' SQLAlchemy table so the auth layer can use it as is.
"""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, String, false, func, true
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(1024))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    is_verified: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
