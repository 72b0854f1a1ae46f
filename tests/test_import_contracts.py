"""The architecture contracts (.importlinter) hold on the real tree, and a
forbidden import breaks them by name."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def _lint(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the root's contracts on the `app` package under `package_parent`."""
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(ROOT / ".importlinter"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=package_parent,
        env={"PYTHONPATH": str(package_parent), "PATH": "/usr/bin:/bin"},
        timeout=300,
        check=False,
    )


def _lint_with(tmp_path: Path, module: str, source: str) -> subprocess.CompletedProcess[str]:
    """lint-imports on a copy of the app with one more module, `module` (a path under app/)."""
    shutil.copytree(
        ROOT / "surfsense_backend" / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__")
    )
    (tmp_path / "app" / module).write_text(source)
    return _lint(tmp_path)


def test_the_tree_keeps_every_contract() -> None:
    done = _lint(ROOT / "surfsense_backend")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_model_importing_a_route_breaks_the_layers(tmp_path: Path) -> None:
    done = _lint_with(tmp_path, "models/x.py", "import app.routes\n")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "The models and the database layer import nothing above them BROKEN" in done.stdout
    assert "Each layer of app imports only the layers below it BROKEN" in done.stdout
    assert "app.models.x -> app.routes" in done.stdout


def test_a_route_importing_a_repository_breaks_the_routes_contract(tmp_path: Path) -> None:
    done = _lint_with(tmp_path, "routes/x.py", "import app.services.runs.repository\n")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "they import no repository BROKEN" in done.stdout
    assert "app.routes.x -> app.services.runs.repository" in done.stdout


def test_persistence_importing_a_domain_breaks_its_contract(tmp_path: Path) -> None:
    done = _lint_with(tmp_path, "services/persistence/x.py", "import app.services.runs.repository\n")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "The persistence package is infrastructure: it imports no domain BROKEN" in done.stdout
    assert "app.services.persistence.x -> app.services.runs.repository" in done.stdout
