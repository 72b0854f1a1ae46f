"""Failed logins, by what they are counted against: an account or a client address.

In the database, so every app process counts the same attempts.
"""

from datetime import datetime

from sqlalchemy import BigInteger, Identity, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class LoginFailure(Base):
    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_subject_failed_at", "subject", "failed_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # "account:<normalised email>" or "address:<client IP>".
    subject: Mapped[str] = mapped_column(String(400))
    failed_at: Mapped[datetime] = mapped_column(server_default=func.now())
