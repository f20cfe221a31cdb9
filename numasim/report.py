"""Reports like the plan's validation commands, from a simulated run's NUMA facts.

* `numastat`: memory read per node, local and remote, laid out as `numastat` lays out its
  per-node columns (`local_node` / `other_node`, plus what other nodes read of this node's memory);
* `threads`: which CPU (and node) each thread ran on over time, as `ps -eLo pid,tid,psr` sampled
  at every metrics interval would show it.

Plain functions over `SimResult.numa` (docs/machine-workload-api.md); the command formats them.
"""

MB = 1 << 20


def numastat(numa: dict) -> dict:
    """Per node: bytes read by CPUs of the node from it (local_node), by its CPUs from other
    nodes (other_node), and of its memory by other nodes' CPUs (remote_in)."""
    m = numa["mem_bytes"]["matrix"]  # [cpu node][memory node]
    n = len(m)
    rows = {
        "local_node": [m[i][i] for i in range(n)],
        "other_node": [sum(m[i][j] for j in range(n) if j != i) for i in range(n)],
        "remote_in": [sum(m[j][i] for j in range(n) if j != i) for i in range(n)],
    }
    total = sum(map(sum, m))
    rows["remote_fraction"] = [(rows["other_node"][i] / max(rows["local_node"][i] + rows["other_node"][i], 1))
                               for i in range(n)]
    return {"nodes": n, "rows": rows, "total_bytes": total,
            "remote_fraction": sum(rows["other_node"]) / total if total else 0.0}


def format_numastat(r: dict) -> str:
    n = r["nodes"]
    head = " " * 26 + "".join(f"{'Node ' + str(i):>15s} " for i in range(n)) + f"{'Total':>15s}"
    rule = " " * 26 + "".join("--------------- " for _ in range(n + 1))
    lines = [head, rule]
    for key, label in (("local_node", "local_node (MB)"), ("other_node", "other_node (MB)"),
                       ("remote_in", "read by other nodes (MB)")):
        vals = r["rows"][key]
        lines.append(f"{label:26s}" + "".join(f"{v / MB:15.1f} " for v in vals) + f"{sum(vals) / MB:15.1f}")
    fr = r["rows"]["remote_fraction"]
    lines.append(f"{'remote share of reads':26s}" + "".join(f"{x * 100:14.1f}% " for x in fr)
                 + f"{r['remote_fraction'] * 100:14.1f}%")
    return "\n".join(lines)


def threads(numa: dict, node_of) -> list:
    """Rows (t ns, thread, cpu, node) of every timeline sample, threads in name order."""
    out = []
    for s in numa["timeline"]:
        for name in sorted(s["cpus"]):
            cpu = s["cpus"][name]
            out.append((s["t"], name, cpu, node_of(cpu) if cpu is not None else None))
    return out


def thread_moves(rows) -> dict:
    """Per thread: how many samples found it on another CPU, and on another node, than before."""
    last = {}
    moves = {}
    for _t, name, cpu, node in rows:
        c = moves.setdefault(name, [0, 0])
        if name in last:
            pc, pn = last[name]
            c[0] += cpu != pc
            c[1] += node != pn
        last[name] = (cpu, node)
    return {k: {"cpu_changes": v[0], "node_changes": v[1]} for k, v in moves.items()}
