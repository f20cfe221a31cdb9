"""numasim's modules import each other without cycles, counting imports inside functions too.

A cycle hidden in a function-level import is still a cycle: it means a module does two jobs. The
graph is read from the source (every `import` and `from ... import` anywhere in a module,
relative ones resolved), so it needs no import of numasim itself.
"""
import ast
import pathlib

import numasim

ROOT = pathlib.Path(numasim.__file__).parent


def _modules():
    """{dotted name: (path, the package its relative imports resolve against)}"""
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = list(p.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            pkg = parts
        else:
            pkg = parts[:-1]
        out[".".join(parts)] = (p, pkg)
    return out


def import_graph() -> dict:
    """{module: set of numasim modules it imports anywhere in its body}"""
    mods = _modules()
    graph = {}
    for name, (path, pkg) in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg[:len(pkg) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                for alias in node.names:
                    sub = f"{mod}.{alias.name}"
                    if sub in mods:
                        deps.add(sub)  # `from . import x`: the submodule x
                    elif mod in mods:
                        deps.add(mod)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in mods)
        deps.discard(name)
        graph[name] = deps
    return graph


def cycles(graph) -> list:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_graph_is_read_from_every_module():
    g = import_graph()
    # a module-level, a relative and a function-level import each show up as an edge
    assert "numasim.tokio.worker" in g["numasim.tokio.handle"]
    assert "numasim.tokio.task" in g["numasim.workload.interpret"]
    assert "numasim.hawk.layouts" in g["numasim.commands.compare"]  # imported inside a function


def test_cycle_finder_finds_a_planted_cycle():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_tokio_is_tokio_alone():
    """tokio/ imports only itself, the error family, and one thing of the host: a worker is an
    OS thread (host.thread). The CPUs, costs and pools are the host's, the futures the
    workload's and the monitors (tokio-metrics) the observers': all handed in, never imported."""
    g = import_graph()
    for name, deps in g.items():
        if name.startswith("numasim.tokio"):
            outside = {d for d in deps if not d.startswith("numasim.tokio")}
            assert outside <= {"numasim.host.thread", "numasim.errors"}, (name, outside)
