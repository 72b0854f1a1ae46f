"""Only `app/services/persistence/upstream.py` (the saver's) and
`app/agents/sdk_runtime.py` (a graph factory's runtime) reach into
LangGraph's private names, one module a layer, so their import-time checks
cover all of them."""

import ast
from pathlib import Path

import app

APP = Path(app.__file__).parent
UPSTREAM = "services/persistence/upstream.py"
# The agents layer may not import services: it has its own one door.
ALLOWED = {UPSTREAM, "agents/sdk_runtime.py"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _upstream(module: str | None) -> bool:
    return module is not None and module.split(".")[0].startswith("langgraph")


def _reaches(tree: ast.Module) -> set[str]:
    """What one module takes from LangGraph by a private name: imports of
    private names or from private modules, and private attributes read off
    anything it imported from LangGraph (a module, a class, a function)."""
    found: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _upstream(alias.name):
                    bound.add(alias.asname or alias.name.split(".")[0])
                    found.update(f"imports {alias.name}" for part in alias.name.split(".") if _private(part))
        elif isinstance(node, ast.ImportFrom) and _upstream(node.module):
            module = node.module or ""
            for alias in node.names:
                bound.add(alias.asname or alias.name)
                if _private(alias.name) or any(_private(part) for part in module.split(".")):
                    found.add(f"imports {alias.name} from {module}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            root: ast.expr = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                found.add(f"reads {ast.unparse(node)}")
    return found


def private_reaches(root: Path) -> set[tuple[str, str]]:
    """Every private reach into LangGraph under `root`, by file, but in the allowed modules."""
    reaches: set[tuple[str, str]] = set()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative not in ALLOWED:
            reaches.update((relative, what) for what in _reaches(ast.parse(path.read_text(), str(path))))
    return reaches


def test_no_module_but_upstream_reaches_into_langgraph_privately() -> None:
    assert private_reaches(APP) == set()


def test_it_finds_each_kind_of_reach_and_allows_upstream(tmp_path: Path) -> None:
    sources = {
        "a.py": ["from langgraph.checkpoint.serde.types import _DeltaSnapshot"],
        "b.py": [
            "from langgraph.checkpoint.postgres import base as stock",
            "stock._build_delta_stage1_sql([])",
        ],
        "c.py": [
            "import langgraph.checkpoint.postgres.base",
            "langgraph.checkpoint.postgres.base._keep_latest('t')",
        ],
        "d.py": [
            "from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver as S",
            "S.__init__",
            "S._cursor",
        ],
        "e.py": ["from langgraph.checkpoint.postgres import _ainternal"],
        "f.py": ["from langgraph._internal._config import merge_configs"],
        "g.py": [
            "from langgraph.checkpoint.base import CheckpointTuple",
            "from other import thing",
            "thing._private",
        ],
        UPSTREAM: ["from langgraph.checkpoint.serde.types import _DeltaSnapshot"],
    }
    for name, lines in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("\n".join(lines))

    assert private_reaches(tmp_path) == {
        ("a.py", "imports _DeltaSnapshot from langgraph.checkpoint.serde.types"),
        ("b.py", "reads stock._build_delta_stage1_sql"),
        ("c.py", "reads langgraph.checkpoint.postgres.base._keep_latest"),
        ("d.py", "reads S._cursor"),
        ("e.py", "imports _ainternal from langgraph.checkpoint.postgres"),
        ("f.py", "imports merge_configs from langgraph._internal._config"),
    }
