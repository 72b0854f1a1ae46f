"""One DATABASE_URL, translated for asyncpg (SQLAlchemy) and psycopg (the saver)."""

import pytest
from psycopg.conninfo import conninfo_to_dict

from app.config import psycopg_conninfo, sqlalchemy_url
from app.config.dsn import parse_database_url


class TestPsycopgConninfo:
    def test_password_with_special_characters_survives_the_round_trip(self) -> None:
        # @ : / space ' and % all percent-encoded in the URL, as a URL requires.
        url = "postgresql+asyncpg://app%40corp:p%40ss%3Aw%2Fo%20rd%27%25@db.example.com:6543/chat"
        parts = conninfo_to_dict(psycopg_conninfo(url))
        assert parts == {
            "host": "db.example.com",
            "port": "6543",
            "user": "app@corp",
            "password": "p@ss:w/o rd'%",
            "dbname": "chat",
        }

    def test_sslmode_and_libpq_options_pass_through(self) -> None:
        url = "postgresql+asyncpg://u@h/d?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=api"
        parts = conninfo_to_dict(psycopg_conninfo(url))
        assert parts["sslmode"] == "verify-full"
        assert parts["sslrootcert"] == "/etc/ca.pem"
        assert parts["application_name"] == "api"

    def test_asyncpg_spelling_of_ssl_becomes_sslmode(self) -> None:
        assert (
            conninfo_to_dict(psycopg_conninfo("postgresql+asyncpg://u@h/d?ssl=require"))["sslmode"]
            == "require"
        )

    def test_asyncpg_only_options_are_dropped(self) -> None:
        url = "postgresql+asyncpg://u@h/d?prepared_statement_cache_size=0&command_timeout=5"
        assert conninfo_to_dict(psycopg_conninfo(url)) == {"host": "h", "user": "u", "dbname": "d"}

    def test_unix_socket_directory(self) -> None:
        url = "postgresql+asyncpg://postgres@/chat?host=/var/run/postgresql"
        assert conninfo_to_dict(psycopg_conninfo(url)) == {
            "host": "/var/run/postgresql",
            "user": "postgres",
            "dbname": "chat",
        }

    def test_several_hosts(self) -> None:
        url = "postgresql+asyncpg://u@/d?host=primary:5432&host=replica:5433"
        parts = conninfo_to_dict(psycopg_conninfo(url))
        assert (parts["host"], parts["port"]) == ("primary,replica", "5432,5433")

    @pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg", "postgresql+asyncpg"])
    def test_every_postgres_spelling_is_accepted(self, scheme: str) -> None:
        assert conninfo_to_dict(psycopg_conninfo(f"{scheme}://u@h/d"))["dbname"] == "d"

    def test_other_databases_are_refused(self) -> None:
        with pytest.raises(ValueError, match="PostgreSQL URL"):
            parse_database_url("mysql://u@h/d")


class TestSqlalchemyUrl:
    def test_plain_url_gets_the_asyncpg_driver(self) -> None:
        url, connect_args = sqlalchemy_url("postgresql://u:p@h:5433/d", prepared_statements=True)
        assert url.drivername == "postgresql+asyncpg"
        assert (url.host, url.port, url.database, url.password) == ("h", 5433, "d", "p")
        assert connect_args == {}

    def test_sslmode_becomes_asyncpg_ssl(self) -> None:
        url, _ = sqlalchemy_url("postgresql+asyncpg://u@h/d?sslmode=require")
        assert dict(url.query) == {"ssl": "require"}

    def test_application_name_moves_to_server_settings(self) -> None:
        url, connect_args = sqlalchemy_url(
            "postgresql://u@h/d?application_name=api", prepared_statements=True
        )
        assert dict(url.query) == {}
        assert connect_args == {"server_settings": {"application_name": "api"}}

    def test_by_default_nothing_is_cached_and_every_statement_is_the_unnamed_one(self) -> None:
        _, connect_args = sqlalchemy_url("postgresql://u@h/d")
        assert connect_args["statement_cache_size"] == 0
        assert connect_args["prepared_statement_cache_size"] == 0
        assert connect_args["prepared_statement_name_func"]() == ""
