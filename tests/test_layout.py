"""The layout is the architecture: imports only go down the package order, and no module
imports itself back through others (lib/__init__.py states the order)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Each lib package may import the kernel and packages of a strictly lower rank.
RANK = {
    "kernel": 0,
    "lib.storage": 1, "lib.timeline": 1,
    "lib.framing": 2, "lib.media": 2,
    "lib.db": 3, "lib.vision": 3,
    "lib.projects": 4,
    "lib.library": 5,
    "lib.overlay": 6,
    "lib.jobs": 7,
    "functions": 8, "web": 8,
    "modal_app": 9,
}
OURS = ("lib", "web", "functions", "modal_app")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "lib":
        return parts[0]
    if len(parts) > 1 and (ROOT / "lib" / parts[1]).is_dir():
        return f"lib.{parts[1]}"
    return "kernel"


def allowed(source_module: str, target_module: str) -> bool:
    """May `source_module` import `target_module`? Same package, the kernel, or a lower rank."""
    source, dest = package_of(source_module), package_of(target_module)
    if dest == source or dest == "kernel":
        return True
    return source != "kernel" and RANK[dest] < RANK[source]


def imported_modules(path: Path) -> set[str]:
    """Every module of ours that `path` imports, at top level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from lib.overlay import before_after` imports the module lib.overlay.before_after
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in found if m.split(".")[0] in OURS and _is_module(m)}


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file() or (
        name == "modal_app")


def source_files() -> list[Path]:
    files = [ROOT / "modal_app.py"]
    for top in ("lib", "web", "functions"):
        files += sorted((ROOT / top).rglob("*.py"))
    return files


def import_graph() -> dict[str, set[str]]:
    return {module_name(f): imported_modules(f) for f in source_files()}


def test_every_package_has_a_rank_and_says_what_it_owns():
    for init in sorted((ROOT / "lib").glob("*/__init__.py")):
        package = package_of(module_name(init))
        assert package in RANK, f"{package} is not in the layout's order"
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "import" in doc, f"{init}: its docstring must say what the package may import"


def test_imports_only_go_down_the_package_order():
    wrong = [f"{module} ({package_of(module)}) imports {target} ({package_of(target)})"
             for module, targets in import_graph().items()
             for target in targets if not allowed(module, target)]
    assert not wrong, "imports against the layout:\n" + "\n".join(sorted(wrong))


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the stack, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph or nxt == node:
                continue
            if state[nxt] == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif state[nxt] == 0:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if state[node] == 0:
            visit(node, [])
    return cycles


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_a_cycle_is_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("source, target, expected", [
    ("lib.jobs.worker", "lib.overlay.before_after", True),
    ("lib.overlay.before_after", "lib.jobs.worker", False),
    ("lib.timeline.keyframes", "lib.media.frames", False),
    ("lib.errors", "lib.storage.base", False),
    ("web.app", "lib.jobs.runner", True),
    ("lib.jobs.records", "web.app", False),
])
def test_the_rule_itself(source, target, expected):
    """The checker tells a reversed import from an allowed one (so the test can fail)."""
    assert allowed(source, target) is expected
