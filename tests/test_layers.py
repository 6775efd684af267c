"""The code's shape, read from its own imports (docs/ARCHITECTURE.md draws it).

``crawler -> pipelines -> storage``: no arrow back up, no import circle, no pipeline that reaches
the spider, and nothing but ``storage/`` writing into an archive.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"storage": 0, "pipelines": 1, "crawler": 2}
# the storage backend's writing calls (storage/backends/base.py)
WRITES = {"put_file", "put_bytes", "put_bytes_overwrite", "delete", "remove_temporaries"}
# what else has a .delete(): the distributed mode's Redis client and its pipelines
REDIS = {"client", "self.client", "pipe", "redis", "self.redis"}


def _modules() -> dict[str, Path]:
    out = {}
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _target(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    """The project modules ``module`` imports, at the top or inside a function."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        for name in names:
            target = _target(name)
            if target and target != module and not module.startswith(target + "."):
                found.add(target)
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _layer(module: str) -> int:
    return LAYERS[module.split(".", 1)[0]]


def test_the_graph_is_read():
    # a reader that found no imports would pass every rule below
    assert len(MODULES) > 100
    assert "storage.seen" in GRAPH["crawler.session"]
    assert "pipelines.neardup_signature" in GRAPH["pipelines.neardup_index"]
    assert "storage.statefiles" in GRAPH["storage.compact"]  # a relative import resolved


def test_no_arrow_back_up():
    up = sorted(f"{a} -> {b}" for a, targets in GRAPH.items() for b in targets if _layer(b) > _layer(a))
    assert up == []


def test_no_import_circle():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                circles.append(sorted(part))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert circles == []


def _calls(path: Path, attrs: set[str]) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in attrs
                and ast.unparse(node.func.value) not in REDIS):
            out.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.func.attr}()")
    return out


def test_only_storage_writes_into_an_archive():
    assert _calls(MODULES["storage.statefiles"], WRITES)  # the check sees a write where there is one
    found = [c for m, p in MODULES.items() if not m.startswith("storage") for c in _calls(p, WRITES)]
    assert found == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("pipelines")))
def test_no_pipeline_reaches_the_spider(module):
    """Pipelines get what they need as keyword arguments in ``from_crawler``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    reached = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "spider":
            reached.append(f"line {node.lineno}: .spider")
        elif isinstance(node, ast.Name) and node.id == "spider":
            reached.append(f"line {node.lineno}: spider")
        elif isinstance(node, ast.arg) and node.arg == "spider":
            reached.append(f"line {node.lineno}: a 'spider' parameter")
        elif isinstance(node, ast.Constant) and node.value == "spider":
            reached.append(f"line {node.lineno}: getattr(..., 'spider')")
    assert reached == []
