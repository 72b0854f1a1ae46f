"""Settings read from the environment, with their defaults and refusals."""

import pytest
from pydantic import ValidationError

from app.config import PersistenceConfig, Settings, StoreSettings


class TestPersistenceConfig:
    def test_defaults_match_the_documented_contract(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir("/")  # no .env from the checkout
        config = PersistenceConfig()
        assert config.enable_checkpointing is True
        assert config.fallback == "fail"
        assert config.max_checkpoint_history == 1000
        assert config.checkpoint_cleanup_interval == 3600
        assert config.checkpointer_cleanup_timeout == 5
        assert (config.pool_min_size, config.pool_max_size) == (1, 10)
        assert (config.pool_timeout, config.pool_max_idle, config.pool_max_lifetime) == (20, 300, 1800)
        # Prepared statements off: the only safe choice behind PgBouncer.
        assert config.prepare_threshold is None

    def test_reads_the_persistence_prefix(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PERSISTENCE_FALLBACK", "memory")
        monkeypatch.setenv("PERSISTENCE_POOL_MAX_SIZE", "4")
        monkeypatch.setenv("PERSISTENCE_PREPARE_THRESHOLD", "5")
        config = PersistenceConfig()
        assert (config.fallback, config.pool_max_size, config.prepare_threshold) == ("memory", 4, 5)

    def test_empty_prepare_threshold_disables_prepared_statements(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PERSISTENCE_PREPARE_THRESHOLD", "")
        assert PersistenceConfig().prepare_threshold is None

    def test_unknown_fallback_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            PersistenceConfig(fallback="maybe")

    def test_pool_max_below_min_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="POOL_MAX_SIZE"):
            PersistenceConfig(pool_min_size=5, pool_max_size=2)


class TestSettings:
    def test_production_requires_a_secret_key_and_a_database(self) -> None:
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            Settings(environment="production", database_url="postgresql://u@h/d")
        with pytest.raises(ValidationError, match="DATABASE_URL"):
            Settings(environment="production", secret_key="s" * 32)

    def test_the_agent_keeps_a_window_of_messages(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir("/")  # no .env from the checkout
        assert Settings().chat_context_messages == 100
        assert Settings(chat_context_messages=0).chat_context_messages == 0
        with pytest.raises(ValidationError, match="CHAT_CONTEXT_MESSAGES"):
            Settings(chat_context_messages=1)
        with pytest.raises(ValidationError):
            Settings(chat_context_messages=-2)

    def test_chat_memory_is_on_unless_turned_off(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir("/")  # no .env from the checkout
        assert Settings().chat_memory is True
        monkeypatch.setenv("CHAT_MEMORY", "off")
        assert Settings().chat_memory is False
        monkeypatch.setenv("CHAT_MEMORY", "sometimes")
        with pytest.raises(ValidationError, match="chat_memory"):
            Settings()

    def test_database_url_is_kept_secret_in_reprs(self) -> None:
        settings = Settings(database_url="postgresql://u:hunter2@h/d")
        assert "hunter2" not in repr(settings)


class TestStoreSettings:
    def test_shared_namespaces_are_first_labels_separated_by_commas(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("STORE_SHARED_NAMESPACES", raising=False)
        assert StoreSettings().shared_namespaces == frozenset()
        monkeypatch.setenv("STORE_SHARED_NAMESPACES", " handbook, policies,,")
        assert StoreSettings().shared_namespaces == {"handbook", "policies"}

    @pytest.mark.parametrize("given", ["handbook.staff", "handbook,a.b"])
    def test_a_label_with_a_period_is_refused(self, monkeypatch: pytest.MonkeyPatch, given: str) -> None:
        monkeypatch.setenv("STORE_SHARED_NAMESPACES", given)
        with pytest.raises(ValueError, match="is not a namespace label"):
            StoreSettings()
