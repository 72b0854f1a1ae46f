# Every target installs what it needs: uv into .tools/, then the locked
# virtual environment into .venv/. Nothing to install by hand.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench bench-baseline docs lint format migrate check-migrations install clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.synced

## make run: serve the app; with no DATABASE_URL, on an embedded PostgreSQL under ./.data/
# --exit-with-parent: a signal to make alone stops the app too, not only Ctrl-C to both.
run: install
	$(BIN)/python -m app --exit-with-parent

# The AI SDK's own client, for the stream tests; without npm they skip.
AI_SDK := tests/ai_sdk/node_modules/.package-lock.json

$(AI_SDK): tests/ai_sdk/package.json tests/ai_sdk/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/ai_sdk --no-audit --no-fund --silent; \
	else echo "npm not found: the AI SDK client tests will be skipped"; fi

## make test: the test suite on TEST_DATABASE_URL, or on an embedded PostgreSQL when unset
test: install $(AI_SDK)
	$(BIN)/pytest

## make bench: ours vs the stock AsyncPostgresSaver vs in-memory (BENCH_DATABASE_URL, or embedded)
bench: $(UV)
	$(UV) sync --frozen --quiet --group bench
	$(BIN)/python -m benchmarks

## make bench-baseline BASE=<commit>: W8's JSON turns, this checkout against BASE's (a worktree), alternately
BASE ?= 79fe602
bench-baseline: $(UV)
	$(UV) sync --frozen --quiet --group bench
	rm -rf .data/baseline && git worktree prune && git worktree add --detach .data/baseline $(BASE)
	$(BIN)/python -m benchmarks.w8_baseline .data/baseline; status=$$?; git worktree remove --force .data/baseline; exit $$status

## make docs: the documentation site from docs/ into site/ (a broken link or page fails it)
docs: $(UV)
	$(UV) sync --frozen --quiet --group docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make migrate: alembic upgrade head on DATABASE_URL (or the embedded server)
migrate: install
	$(BIN)/alembic upgrade head

check-migrations: install
	$(BIN)/alembic check

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache site
