"""The direction of dependencies between the project's apps (docs/ARCHITECTURE.md).

Read from the source (every ``import`` and ``from ... import``, also inside functions, which
is where cycles hide): ``core`` is the base layer and imports no app, and no new cycle
between two apps appears (today there is none).
"""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = sorted(path.parent.name for path in ROOT.glob("*/apps.py"))

# The layers, lowest first (docs/ARCHITECTURE.md): an app imports only apps of lower layers.
# Apps of one layer do not import each other. Above this, other apps reach in through the
# registries of the lower ones (core/events.py, programs/extensions.py, assessments/extensions.py).
LAYERS = (
    ("core",),
    ("integrations",),
    ("programs",),
    ("mentors",),
    ("assessments", "matching", "privacy"),
    ("notifications",),
    ("officehours",),
)

# Pairs of apps that import each other (none today: keep it so; a pair may only be added with
# an argument in docs/ARCHITECTURE.md, and a listed pair that has gone fails the test).
KNOWN_CYCLES: set[frozenset[str]] = set()


def _imports() -> dict[tuple[str, str], list[str]]:
    """(importing app, imported app) -> the files where it happens."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    target = name.split(".", 1)[0]
                    if target in (*APPS, "config") and target != app:
                        found[(app, target)].append(relative)
    return found


def test_core_imports_no_app():
    offenders = [
        f"{where} imports {target}" for (app, target), files in _imports().items() if app == "core" for where in files
    ]
    assert offenders == []


def test_no_app_imports_the_project_configuration():
    """``config`` (settings, URLs, Celery app) names and mounts the apps, never the reverse."""
    offenders = [
        f"{where} imports config"
        for (app, target), files in _imports().items()
        if target == "config"
        for where in files
    ]
    assert offenders == []


def test_the_configuration_package_is_not_an_app():
    assert (ROOT / "config" / "settings" / "base.py").exists()
    assert not (ROOT / "config" / "apps.py").exists()
    assert "config" not in APPS


def test_no_new_cycle_between_apps_and_the_known_ones_are_still_true():
    imports = _imports()
    cycles = {frozenset({a, b}) for a, b in itertools.combinations(APPS, 2) if (a, b) in imports and (b, a) in imports}
    new = {
        " <-> ".join(sorted(pair)): sorted({*imports[tuple(sorted(pair))], *imports[tuple(sorted(pair))[::-1]]})[:4]
        for pair in cycles - KNOWN_CYCLES
    }
    assert new == {}, "a new cycle between apps"
    gone = sorted(" <-> ".join(sorted(pair)) for pair in KNOWN_CYCLES - cycles)
    assert gone == [], "these cycles are gone: take them off KNOWN_CYCLES"


def test_every_app_imports_only_lower_layers():
    layer_of = {app: index for index, layer in enumerate(LAYERS) for app in layer}
    assert sorted(layer_of) == sorted(APPS), "every app has its layer"
    upward = sorted(
        f"{app} imports {target} ({sorted(set(files))[0]})"
        for (app, target), files in _imports().items()
        if target in layer_of and layer_of[target] >= layer_of[app]
    )
    assert upward == []


def test_another_app_is_imported_at_the_top_of_a_module():
    """With no cycle to hide, an import of another app inside a function has no reason to be there.

    ``apps.py`` is the exception: ``ready()`` registers with other apps once the registry is loaded.
    """
    hidden = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative.endswith("/apps.py"):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for function in ast.walk(tree):
                if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for node in ast.walk(function):
                    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                        target = node.module.split(".", 1)[0]
                        if target in APPS and target != app:
                            hidden.append(f"{relative}:{node.lineno} {node.module}")
    assert hidden == []
