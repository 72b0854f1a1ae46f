"""Registration, login and tokens."""

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import get_settings
from app.models import AccessToken, LoginFailure, User
from app.services.auth.throttle import LoginThrottle
from tests.http_client import Caller, asgi_client, register


class TestRegister:
    async def test_register_login_and_me(self, app: FastAPI) -> None:
        async with asgi_client(app) as client:
            token = await register(client, "Carol@HTTP.example.com")
            me = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["email"] == "carol@http.example.com"
        assert "hashed_password" not in me.json()

    async def test_the_same_address_in_another_case_is_a_conflict(self, app: FastAPI) -> None:
        async with asgi_client(app) as client:
            await register(client, "dave@http.example.com")
            again = await client.post(
                "/auth/register", json={"email": "DAVE@http.example.com", "password": "x" * 12}
            )
        assert again.status_code == 409
        assert again.json() == {
            "error": "UserAlreadyExists",
            "detail": "A user with this email already exists.",
        }

    async def test_short_password(self, app: FastAPI) -> None:
        async with asgi_client(app) as client:
            response = await client.post(
                "/auth/register", json={"email": "erin@http.example.com", "password": "short"}
            )
        assert response.status_code == 422
        assert response.json()["error"] == "InvalidPassword"
        assert "8 characters" in response.json()["detail"]

    async def test_malformed_bodies(self, app: FastAPI) -> None:
        async with asgi_client(app) as client:
            for body in (
                {"email": "not-an-email", "password": "x" * 12},
                {"email": "a@http.example.com"},
                {},
            ):
                response = await client.post("/auth/register", json=body)
                assert response.status_code == 422, body
                assert set(response.json()) == {"error", "detail"}


class TestTokens:
    async def test_wrong_password(self, app: FastAPI, alice: Caller) -> None:
        async with asgi_client(app) as client:
            response = await client.post(
                "/auth/jwt/login", data={"username": alice.email, "password": "wrong pass"}
            )
        assert response.status_code == 400
        assert response.json()["error"] == "BadCredentials"

    async def test_missing_garbage_and_expired_tokens_are_401(
        self, app: FastAPI, alice: Caller, engine: AsyncEngine
    ) -> None:
        async with asgi_client(app) as client:
            assert (await client.get("/api/v1/conversations")).status_code == 401
            for token in (b"garbage", b"nul\x00byte", b"\xed\xa0\x80"):
                response = await client.get(
                    "/api/v1/conversations", headers={b"Authorization": b"Bearer " + token}
                )
                assert response.status_code == 401
                assert response.json() == {"error": "Unauthorized", "detail": "Unauthorized."}
        assert (await alice.client.get("/api/v1/conversations")).status_code == 200
        lifetime = get_settings().access_token_lifetime
        async with engine.begin() as conn:
            await conn.execute(
                update(AccessToken)
                .where(AccessToken.user_id == alice.id)
                .values(created_at=datetime.now(UTC) - timedelta(seconds=lifetime + 1))
            )
        assert (await alice.client.get("/api/v1/conversations")).status_code == 401

    async def test_logout_ends_the_token_at_once(self, alice: Caller) -> None:
        assert (await alice.client.post("/auth/jwt/logout")).status_code == 204
        assert (await alice.client.get("/users/me")).status_code == 401
        assert (await alice.client.post("/auth/jwt/logout")).status_code == 401

    async def test_logout_ends_only_that_token(self, app: FastAPI, alice: Caller) -> None:
        async with asgi_client(app) as client:
            login = await client.post(
                "/auth/jwt/login", data={"username": alice.email, "password": "correct horse battery"}
            )
            other = {"Authorization": f"Bearer {login.json()['access_token']}"}
            assert (await client.post("/auth/jwt/logout", headers=other)).status_code == 204
            assert (await client.get("/users/me", headers=other)).status_code == 401
        assert (await alice.client.get("/users/me")).status_code == 200

    async def test_deleting_the_user_ends_their_tokens(self, alice: Caller, engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            await conn.execute(delete(User).where(User.id == alice.id))
            left = await conn.scalar(
                select(func.count()).select_from(AccessToken).where(AccessToken.user_id == alice.id)
            )
        assert left == 0
        assert (await alice.client.get("/users/me")).status_code == 401

    async def test_only_a_hash_of_the_token_is_stored(self, alice: Caller, engine: AsyncEngine) -> None:
        token = alice.client.headers["Authorization"].removeprefix("Bearer ")
        async with engine.connect() as conn:
            stored = list(
                await conn.scalars(select(AccessToken.token_hash).where(AccessToken.user_id == alice.id))
            )
        assert token not in stored
        assert len(stored) == 1


class TestEmails:
    async def test_an_address_logs_in_as_it_was_typed(self, app: FastAPI) -> None:
        async with asgi_client(app) as client:
            for email in ("İx@http.example.com", "ÅSA.Straße@http.example.com"):
                token = await register(client, email)
                me = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
                assert me.status_code == 200


class TestBadText:
    async def test_nul_and_lone_surrogates_are_422(self, app: FastAPI) -> None:
        async with asgi_client(app) as client:
            # As a browser or curl sends them: percent-encoded bytes.
            form = {"content-type": "application/x-www-form-urlencoded"}
            for body in (
                b"username=a%00@http.example.com&password=xxxxxxxxxx",
                b"username=a%40b&password=p%ED%A0%80",
            ):
                response = await client.post("/auth/jwt/login", content=body, headers=form)
                assert response.status_code in {400, 422}, response.text
            # JSON escapes, as a client sends them: "\\u0000" and a lone "\\ud800".
            for body in (
                b'{"email": "nul@http.example.com", "password": "long enough\\u0000"}',
                b'{"email": "surrogate@http.example.com", "password": "long enough\\ud800"}',
            ):
                response = await client.post(
                    "/auth/register", content=body, headers={"content-type": "application/json"}
                )
                assert response.status_code == 422, response.text
                assert response.json()["error"] == "ValidationError"


class TestLoginThrottle:
    async def test_failures_are_limited_per_account_and_address(
        self, app: FastAPI, alice: Caller, engine: AsyncEngine
    ) -> None:
        app.state.login_throttle = LoginThrottle(app.state.sessionmaker, max_failures=3, window=600)
        here, elsewhere = "203.0.113.7", "203.0.113.8"
        try:
            async with asgi_client(app, client=(here, 1234)) as client:
                wrong = {"username": alice.email, "password": "wrong password"}
                statuses = [(await client.post("/auth/jwt/login", data=wrong)).status_code for _ in range(3)]
                assert statuses == [400, 400, 400]
                refused = await client.post("/auth/jwt/login", data=wrong)
                assert refused.status_code == 429
                assert refused.json()["error"] == "TooManyLoginAttempts"
                assert 0 < int(refused.headers["Retry-After"]) <= 600
                # The right password too, while the account is locked.
                right = {"username": alice.email, "password": "correct horse battery"}
                assert (await client.post("/auth/jwt/login", data=right)).status_code == 429
                # Another account from this address: the address is used up as well.
                other = {"username": "nobody@http.example.com", "password": "whatever it is"}
                assert (await client.post("/auth/jwt/login", data=other)).status_code == 429
            async with asgi_client(app, client=(elsewhere, 1234)) as client:
                assert (await client.post("/auth/jwt/login", data=other)).status_code == 400
                assert (await client.post("/auth/jwt/login", data=right)).status_code == 429
        finally:
            async with engine.begin() as conn:
                await conn.execute(
                    delete(LoginFailure).where(
                        LoginFailure.subject.in_(
                            [
                                f"address:{here}",
                                f"address:{elsewhere}",
                                f"account:{alice.email}",
                                "account:nobody@http.example.com",
                            ]
                        )
                    )
                )
