"""Registration, login and tokens."""

from datetime import UTC, datetime, timedelta

import jwt
from fastapi import FastAPI

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

    async def test_missing_forged_and_expired_tokens_are_401(self, app: FastAPI, alice: Caller) -> None:
        forged = jwt.encode(
            {"sub": str(alice.id), "aud": ["fastapi-users:auth"]},
            "not-the-server-key-but-just-as-long-as-one-" * 2,
            algorithm="HS256",
        )
        expired = jwt.encode(
            {
                "sub": str(alice.id),
                "aud": ["fastapi-users:auth"],
                "exp": datetime.now(UTC) - timedelta(minutes=1),
            },
            app.state.secret_key,
            algorithm="HS256",
        )
        valid = jwt.encode(
            {
                "sub": str(alice.id),
                "aud": ["fastapi-users:auth"],
                "exp": datetime.now(UTC) + timedelta(minutes=1),
            },
            app.state.secret_key,
            algorithm="HS256",
        )
        async with asgi_client(app) as client:
            assert (await client.get("/api/v1/conversations")).status_code == 401
            for token in (forged, expired, "garbage"):
                response = await client.get(
                    "/api/v1/conversations", headers={"Authorization": f"Bearer {token}"}
                )
                assert response.status_code == 401
                assert response.json() == {"error": "Unauthorized", "detail": "Unauthorized."}
            # The same claims signed with the server's key do pass.
            ok = await client.get("/api/v1/conversations", headers={"Authorization": f"Bearer {valid}"})
            assert ok.status_code == 200
