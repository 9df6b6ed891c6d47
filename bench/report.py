"""Turn one run's results into the markdown table and the latency chart."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "**no**", None: "-"}[value]
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, tuple | list) and len(value) == 2 and all(
            isinstance(v, int | float) for v in value):
        return f"{fmt(float(value[0]))}-{fmt(float(value[1]))}"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no rows)\n"
    columns = list(rows[0])
    for row in rows[1:]:
        columns += [c for c in row if c not in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def markdown(results: dict[str, Any]) -> str:
    env = results["environment"]
    v = env["versions"]
    out = [
        f"# Benchmark results ({'quick' if results['quick'] else 'full'} run)\n",
        f"Command: `{results['command']}`  ",
        f"Started {env['load_start']['at']}, {results['seconds']:.0f} s; git "
        f"{env['git']['commit']}{' (dirty tree)' if env['git']['dirty'] else ''}; "
        f"{env['machine']['cores']} cores ({env['machine']['cpu']}), "
        f"load average at start {env['load_start']['loadavg'][0]:.2f}, at end "
        f"{results['load_end']['loadavg'][0]:.2f} (the box is shared: read ratios, not "
        f"absolutes). Repeats: {results['repeats']} (figures are medians).  ",
        f"Python {v['python']}, Django {v['django']}, strawberry {v['strawberry-graphql']}, "
        f"strawberry-django {v['strawberry-graphql-django']}, channels {v['channels']}, "
        f"daphne {v['daphne']}, PostgreSQL {v['postgresql']}, {v['redis-server']}, "
        f"PostGraphile {v['postgraphile']} on Node {v['node']}, {v['wrk']}.\n",
        "## Targets of issue 6\n",
        table([{"target": t["target"], "measured": t["value"], "goal": t["goal"],
                "met": t["met"], "note": t.get("note", "")}
               for s in results["scenarios"].values() for t in s.get("targets", [])]),
    ]
    for key, scenario in results["scenarios"].items():
        out.append(f"## {scenario['title']}\n")
        if scenario["status"] != "ok":
            out.append(f"**{scenario['status']}**: {scenario.get('reason', '')}\n")
            continue
        out.append(table(scenario["rows"]))
        if key == "c" and scenario.get("chart_file"):
            out.append(f"\n![latency by subscribers]({scenario['chart_file']})\n")
    if results.get("notes"):
        out.append("## Notes\n")
        out += [f"- {note}" for note in results["notes"]]
    return "\n".join(out) + "\n"


def chart(rows: list[dict[str, Any]], path: Path) -> bool:
    """Latency percentiles by subscriber count, ours vs the floor (log-log)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    styles = {"ours": "-", "floor": "--", "daphne floor": ":"}
    colors = {"p50 ms": "tab:blue", "p90 ms": "tab:orange", "p99 ms": "tab:red"}
    for server, style in styles.items():
        points = sorted((r["subscribers"], r) for r in rows if r["server"] == server)
        if not points:
            continue
        xs = [p[0] for p in points]
        for key, color in colors.items():
            ax.plot(xs, [p[1][key] for p in points], style, marker="o", color=color,
                    label=f"{server} {key.split()[0]}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("subscribers (one daphne worker, Redis)")
    ax.set_ylabel("change → client latency (ms)")
    ax.set_title("(c) change → client latency percentiles by subscriber count\n"
                 "solid: ours (save → outbox → Redis → hub → socket)\n"
                 "dashed: bare websockets + Redis PUBLISH; dotted: bare ASGI on daphne + PUBLISH",
                 fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
