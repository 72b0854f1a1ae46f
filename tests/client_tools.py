"""Tools from outside Python that client tests drive (Chromium, Node.js with the
AI SDK): missing on a developer's machine, a test skips; with
REQUIRE_CLIENT_TESTS=1, as `.ci/run` sets, it fails instead."""

import os

import pytest


def missing(what: str) -> None:
    """Skip, or fail under REQUIRE_CLIENT_TESTS=1, because `what` is not installed."""
    if os.environ.get("REQUIRE_CLIENT_TESTS") == "1":
        pytest.fail(f"needs {what}")
    pytest.skip(f"needs {what}")
