from app.errors import InvalidRequest


class InvalidStoreInput(InvalidRequest):
    """A namespace, key, value, filter or bound the store refuses, with its cause (422)."""
