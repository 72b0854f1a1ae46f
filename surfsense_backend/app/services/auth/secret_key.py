"""The key that signs access tokens and cursors."""

import logging
import os
import secrets

from app.config import Settings

logger = logging.getLogger(__name__)


def resolve_secret_key(settings: Settings) -> str:
    """SECRET_KEY, or for local runs a key generated once and kept under the data dir.

    Production refuses to start without SECRET_KEY (see Settings), so a
    generated key never signs tokens there.
    """
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.data_dir / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once agree on one key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_urlsafe(48))
    logger.info("generated a secret key for local runs at %s", path)
    return path.read_text().strip()
