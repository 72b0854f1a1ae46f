"""The one spelling of an email address that is stored and looked up."""

import unicodedata


def normalize_email(email: str) -> str:
    """NFC, then casefold, compared exactly wherever an address is looked up:
    `İx@example.com` logs in as typed, as it registered. (PostgreSQL's lower()
    and Python's disagree on such letters, so SQL never folds case here.)"""
    return unicodedata.normalize("NFC", email).casefold()
