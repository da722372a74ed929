"""``rcsportal.messaging`` (including ``providers/``) stays free of Django and of the app.

Walks every ``.py`` file under the package with ``ast`` so that lazy imports inside
functions are caught too, and relative imports are resolved before checking.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "rcsportal" / "messaging"
FORBIDDEN = ("django", "rcsportal.campaigns")


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE_DIR.parent.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[str]:
    """Absolute names of every module imported anywhere in ``path``."""
    return imports_in_source(path.read_text(), module_name(path), path.name == "__init__.py")


def imports_in_source(source: str, module: str, is_package: bool = False) -> list[str]:
    """Absolute names of every module imported in ``source`` (the code of ``module``)."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.append(arg.value)
    return names


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "__import__" or func.id == "import_module"
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def is_forbidden(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)


SOURCES = sorted(PACKAGE_DIR.rglob("*.py"))


def test_package_has_sources():
    assert PACKAGE_DIR / "message.py" in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_no_django_or_campaigns_import(path):
    bad = [name for name in imported_modules(path) if is_forbidden(name)]
    assert bad == [], f"{path} imports {bad}"


def test_checker_catches_forbidden_imports():
    samples = {
        "import django": True,
        "from django.conf import settings": True,
        "def f():\n    from rcsportal.campaigns.models import Send": True,
        "import importlib\nimportlib.import_module('django.db')": True,
        "from ...campaigns import models": True,
        "from ... import campaigns": True,
        "from ..message import Message": False,
        "import djangoish": False,
    }
    for source, expected in samples.items():
        names = imports_in_source(source, "rcsportal.messaging.providers.fake")
        assert any(is_forbidden(n) for n in names) is expected, source
