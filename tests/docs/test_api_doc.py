"""docs/API.md, the contract in the repository, names exactly the routes the app serves."""

import re
from pathlib import Path

from fastapi import FastAPI

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"
# A table row's route: "| `GET /path?query`" or "`GET /health/live`, `GET /health/ready`".
_ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)")


def _documented() -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for line in API_DOC.read_text().splitlines():
        if line.startswith("| `"):
            cell = line.split(" | ")[0]
            routes |= {(method, path) for method, path in _ROUTE.findall(cell)}
    return routes


def test_every_route_of_the_schema_is_documented_and_nothing_else(app: FastAPI) -> None:
    in_schema = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    # Served but kept out of the schema: the operators' endpoint.
    served = in_schema | {("GET", "/metrics")}
    documented = _documented()
    assert in_schema - documented == set(), "in the OpenAPI schema, missing from docs/API.md"
    assert documented - served == set(), "in docs/API.md, but the app does not serve them"
