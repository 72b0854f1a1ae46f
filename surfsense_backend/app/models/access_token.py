"""Access tokens: a bearer token is valid while its row exists and is young enough.

Only a token's SHA-256 is stored, so the table cannot be used to log in.
Logging out deletes the row; deleting a user deletes theirs (the foreign key
cascades), so both end the token at once, not when it would have expired.
"""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class AccessToken(Base):
    __tablename__ = "access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
