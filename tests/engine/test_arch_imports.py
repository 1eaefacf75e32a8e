"""The direction of imports (DESIGN §4, issue 11 step 7): config ← network_hub domain ←
publishers ← jobs ← process assembly (network_hub/service). Read from the source with ``ast``, so
a function-level import that hides a cycle is found too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path, *, module_level_only: bool = False) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _offenders(folder: str, banned: tuple[str, ...], *, module_level_only: bool = False,
               skip: tuple[str, ...] = ()) -> list[str]:
    out = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(skip):
            continue
        for line, name in _imports(path, module_level_only=module_level_only):
            if any(name == b or name.startswith(b + ".") for b in banned):
                out.append(f"{rel}:{line} imports {name}")
    return out


def test_the_outbox_imports_nothing_above_it() -> None:
    banned = ("jobs", "publishers", "network_hub.bot", "network_hub.web", "network_hub.cli", "network_hub.service")
    assert _offenders("network_hub/outbox", banned) == []


def test_only_the_composition_root_imports_jobs_at_module_level() -> None:
    assert _offenders("network_hub", ("jobs",), module_level_only=True, skip=("network_hub/service/",)) == []


def test_the_web_never_imports_jobs() -> None:
    assert _offenders("network_hub/web", ("jobs",)) == []


def test_publishers_know_nothing_of_the_database_or_the_jobs() -> None:
    banned = ("jobs", "network_hub.db", "network_hub.outbox", "network_hub.hub", "sqlalchemy")
    assert _offenders("publishers", banned) == []


@pytest.mark.parametrize("service", ["jobs/reconcile.py", "jobs/sweeps.py"])
def test_the_maintenance_services_hold_no_engine_sql(service: str) -> None:
    """Their statements live in network_hub/outbox (reconcile_queries, sweep_queries)."""
    statements = {"select", "update", "insert", "delete", "text", "func", "and_", "or_"}
    tree = ast.parse((ROOT / service).read_text(encoding="utf-8"))
    used = [f"{node.lineno}: {alias.name}" for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
            for alias in node.names if alias.name in statements]
    assert used == []
