"""`app/services/messages/` is the one module that writes the `messages`
table and the counters `conversations` keep of it: no other module builds
an INSERT, UPDATE or DELETE of either, by SQLAlchemy or in SQL text."""

import ast
import re
from pathlib import Path

import app

APP = Path(app.__file__).parent
OWNER = "services/messages/"
COUNTERS = {"message_count", "last_message_preview"}
# SQL text that writes the table, or the counters.
_SQL_WRITE = re.compile(
    r"\b(insert\s+into|update|delete\s+from)\s+messages\b|\bset\b[^;]*\b(message_count|last_message_preview)\b",
    re.IGNORECASE | re.DOTALL,
)
_WRITES = {"insert", "update", "delete"}


def _writes(tree: ast.Module) -> set[str]:
    """What one module writes of messages or of the counters."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            first = node.args[0] if node.args else None
            if name in _WRITES and isinstance(first, ast.Name) and first.id == "Message":
                found.add(f"{name}(Message)")
            if name == "Message":
                found.add("Message(...)")
            found.update(f"{name}({k.arg}=...)" for k in node.keywords if k.arg in COUNTERS)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found.update(
                f"sets .{t.attr}" for t in targets if isinstance(t, ast.Attribute) and t.attr in COUNTERS
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL_WRITE.search(node.value):
            found.add(f"SQL {' '.join(node.value.split())[:60]!r}")
    return found


def writers(root: Path) -> set[tuple[str, str]]:
    """Every write of messages or their counters under `root`, by file, but in the owner."""
    found: set[tuple[str, str]] = set()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if not relative.startswith(OWNER):
            found.update((relative, what) for what in _writes(ast.parse(path.read_text(), str(path))))
    return found


def test_only_the_messages_package_writes_messages_or_their_counters() -> None:
    assert writers(APP) == set()


def test_the_owner_is_where_the_writes_are() -> None:
    # The check finds them where they are: it is not blind.
    owner = {what for path, what in writers(APP.parent) if path.startswith(f"app/{OWNER}")}
    assert {"insert(Message)", "update(Message)", "delete(Message)"} <= owner


def test_a_write_elsewhere_is_caught(tmp_path: Path) -> None:
    (tmp_path / "services" / "runs").mkdir(parents=True)
    (tmp_path / "services" / "runs" / "sneaky.py").write_text(
        "from sqlalchemy import delete, text, update\n"
        "from app.models import Conversation, Message\n"
        "def gone(run_id):\n"
        "    return delete(Message).where(Message.run_id == run_id)\n"
        "def recount(conversation, n):\n"
        "    conversation.message_count = n\n"
        "    return update(Conversation).values(last_message_preview='x')\n"
        "RAW = text('INSERT INTO messages (role) VALUES (:r)')\n"
        "RAW2 = '''UPDATE conversations SET message_count = message_count + 1'''\n"
        "def add(session):\n"
        "    session.add(Message(role='user', content='x'))\n"
    )
    assert {what for _, what in writers(tmp_path)} == {
        "delete(Message)",
        "sets .message_count",
        "values(last_message_preview=...)",
        "SQL 'INSERT INTO messages (role) VALUES (:r)'",
        "SQL 'UPDATE conversations SET message_count = message_count + 1'",
        "Message(...)",
    }
