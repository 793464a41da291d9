"""The package's dependencies point one way (architecture.md).

Every ``import`` of every module is read from the source (AST, function-level
imports included) and checked against the layers, bottom to top:

``errors``/``_io``/``_version``/``_display`` → ``sheets`` → ``effects`` →
``models`` → ``bias``, ``sensitivity`` → ``report`` → ``plots`` → ``cli``;
``review`` sits beside the analysis side on the bottom layer only: neither
imports the other (the command line glues them).

The one sanctioned late binding upwards is :mod:`metail2._display`, which
loads ``metail2.report`` by name when a result is printed (it is a string, not
an import, and this test reads imports).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).parents[1] / "metail2"

BOTTOM = {"errors", "_io", "_version", "_display", "_spreadsheet"}
#: rank of each top-level part; a module may import parts of lower or equal rank
#: (equal rank only within its own part).
RANK = {**{b: 0 for b in BOTTOM}, "sheets": 1, "effects": 2, "models": 3, "bias": 4, "sensitivity": 4,
        "report": 5, "plots": 6, "cli": 7, "__main__": 8}
REVIEW_MAY_IMPORT = BOTTOM | {"review"}


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        yield "metail2" + "".join("." + p for p in parts), path, rel.name == "__init__"


def _imports(name: str, path: Path, is_pkg: bool) -> set[str]:
    """Absolute names of the metail2 modules ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if is_pkg else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("metail2")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("metail2"):
                continue
            found.add(mod)
            for a in node.names:  # `from . import sheet` imports a module
                if (PKG.parent / (mod + "." + a.name).replace(".", "/")).with_suffix(".py").exists() or \
                        (PKG.parent / (mod + "." + a.name).replace(".", "/") / "__init__.py").exists():
                    found.add(mod + "." + a.name)
    return found - {name}


GRAPH = {name: _imports(name, path, is_pkg) for name, path, is_pkg in _modules()}


def _part(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m != "metail2"))
def test_no_upward_or_sideways_import(module):
    here = _part(module)
    bad = []
    for target in GRAPH[module]:
        there = _part(target)
        if there == here or there == "":
            if there == "" and here not in ("", "__main__"):
                bad.append(f"{target} (the package root re-exports everything; import the subpackage)")
            continue
        if here == "review" or there == "review":
            if here == "review" and there not in REVIEW_MAY_IMPORT:
                bad.append(f"{target} (review never imports the analysis side)")
            if there == "review" and here not in ("cli",):
                bad.append(f"{target} (the analysis side never imports review; the CLI glues them)")
            continue
        if there == "errors":  # every module may raise metail2's errors
            continue
        if here in RANK and there in RANK and RANK[there] >= RANK[here]:
            bad.append(f"{target} (layer {there} is not below {here})")
    assert not bad, f"{module} imports: " + "; ".join(sorted(bad))


def test_no_import_cycles():
    """Tarjan's strongly connected components over the module graph: none larger than one."""
    index, low, stack, on, sccs = {}, {}, [], set(), []

    def visit(v, counter=[0]):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH.get(v, ()):
            if w not in GRAPH:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(comp)

    # a package's __init__ importing its own modules is not a cycle with them
    for v in list(GRAPH):
        GRAPH[v] = {w for w in GRAPH[v] if not (v.startswith(w + ".") and w in GRAPH)}
    for v in GRAPH:
        if v not in index:
            visit(v)
    cycles = [sorted(c) for c in sccs if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"


def test_every_part_is_ranked():
    parts = {_part(m) for m in GRAPH} - {""}
    assert parts <= set(RANK) | {"review"}, parts - set(RANK)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_modules_stay_small(module):
    """About 400 lines at most (architecture.md: small modules)."""
    path = next(p for n, p, _ in _modules() if n == module)
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 450
