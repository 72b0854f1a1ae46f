"""Errors of registration and login, each with its HTTP status."""

from typing import ClassVar

from app.errors import AppError, Conflict, InvalidRequest, NotFound


class UserAlreadyExists(Conflict):
    def __init__(self) -> None:
        super().__init__("A user with this email already exists.")


class UserNotFound(NotFound):
    def __init__(self, user_id: object = None) -> None:
        # No id: found gone by a write that referred to it (app.services.integrity).
        if user_id is None:
            super().__init__("The account was deleted while this request was served.")
        else:
            super().__init__(f"User {user_id} was not found.")


class InvalidPassword(InvalidRequest):
    pass


class BadCredentials(AppError):
    """Wrong email or password, or an inactive user: the three answer the same."""

    status_code: ClassVar[int] = 400

    def __init__(self) -> None:
        super().__init__("Wrong email or password.")


class TooManyLoginAttempts(AppError):
    status_code: ClassVar[int] = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed logins; try again in {retry_after} seconds.")
        self.headers = {"Retry-After": str(retry_after)}
