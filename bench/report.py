"""The Markdown summary of a `bench/run.py` report, with hand-made SVG charts (no plotting
library: a few rectangles, lines and labels are all a reader needs at a glance)."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 36, 56
COLOURS = ["#1f6feb", "#d9480f", "#2f9e44", "#7048e8", "#e67700", "#495057"]
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _tick(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def _nice_max(value: float) -> float:
    if value <= 0 or math.isnan(value):
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def _frame(title: str, y_label: str, y_max: float, extra: str = "") -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{_esc(title)}" {FONT} '
        'font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="15" '
        f'font-weight="bold">{_esc(title)}</text>',
        f'<text x="14" y="{TOP + plot_h / 2}" transform="rotate(-90 14 {TOP + plot_h / 2})" '
        f'text-anchor="middle">{_esc(y_label)}</text>',
    ]
    for k in range(6):
        value = y_max * k / 5
        y = TOP + plot_h - plot_h * k / 5
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            f'stroke="#dee2e6"/><text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_tick(value)}</text>"
        )
    parts.append(extra)
    return parts


def bar_chart(
    title: str,
    y_label: str,
    bars: list[tuple[str, float]],
    *,
    goal: float | None = None,
    goal_label: str = "",
) -> str:
    """Vertical bars with their value on top; an optional dashed goal line."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = max([v for _, v in bars if not math.isnan(v)] + [goal or 0, 0])
    y_max = _nice_max(top * 1.1)
    parts = _frame(title, y_label, y_max)
    n = max(len(bars), 1)
    slot = plot_w / n
    for i, (label, value) in enumerate(bars):
        v = 0.0 if math.isnan(value) else value
        h = plot_h * v / y_max
        x = LEFT + i * slot + slot * 0.15
        y = TOP + plot_h - h
        colour = COLOURS[i % len(COLOURS)]
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{colour}"><title>{_esc(label)}: {value:,.4g}</title></rect>'
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
            f"{_tick(value)}</text>"
            f'<text x="{x + slot * 0.35:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
            f'font-size="11">{_esc(label)}</text>'
        )
    if goal is not None:
        y = TOP + plot_h - plot_h * goal / y_max
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#c92a2a" '
            f'stroke-dasharray="6 4"/><text x="{WIDTH - RIGHT}" y="{y - 4:.1f}" '
            f'text-anchor="end" fill="#c92a2a">{_esc(goal_label)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def line_chart(
    title: str,
    x_label: str,
    y_label: str,
    series: list[tuple[str, list[tuple[float, float]]]],
    *,
    goal: float | None = None,
    goal_label: str = "",
) -> str:
    """Lines (x, y) with dots and a legend; an optional dashed goal line."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    points = [p for _, pts in series for p in pts if not math.isnan(p[1])]
    x_max = _nice_max(max([x for x, _ in points] + [1]))
    y_max = _nice_max(max([y for _, y in points] + [goal or 0, 0]) * 1.1)
    parts = _frame(title, y_label, y_max)
    for k in range(6):
        x = LEFT + plot_w * k / 5
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
            f"{_tick(x_max * k / 5)}</text>"
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 8}" text-anchor="middle">'
        f"{_esc(x_label)}</text>"
    )
    for i, (name, pts) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        xy = [
            (LEFT + plot_w * x / x_max, TOP + plot_h - plot_h * y / y_max)
            for x, y in pts
            if not math.isnan(y)
        ]
        if len(xy) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        if len(xy) <= 40:
            parts.extend(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in xy
            )
        lx = LEFT + 10 + i * 170
        parts.append(
            f'<rect x="{lx}" y="{TOP + 4}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{lx + 16}" y="{TOP + 14}">{_esc(name)}</text>'
        )
    if goal is not None:
        y = TOP + plot_h - plot_h * goal / y_max
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#c92a2a" '
            f'stroke-dasharray="6 4"/><text x="{WIDTH - RIGHT}" y="{y - 4:.1f}" '
            f'text-anchor="end" fill="#c92a2a">{_esc(goal_label)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "—" if value in (None, "") else str(value)


def _ratio(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.0%}"


def charts(report: dict[str, Any], out_dir: Path, stem: str) -> list[tuple[str, str]]:
    """Write the SVG charts next to the summary; returns (caption, file name) pairs."""
    made: list[tuple[str, str]] = []

    def save(name: str, caption: str, svg: str) -> None:
        path = out_dir / f"{stem}-{name}.svg"
        path.write_text(svg, encoding="utf-8")
        made.append((caption, path.name))

    figures = report.get("figures", {})
    ratios = [
        (row.get("short") or row["name"][:18], 100 * row["ratio"])
        for row in report.get("table", [])
        if row.get("ratio") is not None and not math.isnan(row["ratio"])
    ]
    if ratios:
        save(
            "ratios",
            "Each figure as a share of the limit measured beside it in the same run",
            bar_chart("Figure ÷ limit measured in the same run", "% of the limit", ratios),
        )
    rps = [
        (name, float(f["rps"]))
        for name, f in (
            ("bare view", figures.get("healthz", {})),
            ("GET /accounts", figures.get("accounts", {})),
        )
        if f.get("rps")
    ]
    for name, f in figures.get("servers", {}).get("runs", {}).items():
        for path, r in f.items():
            rps.append((f"{name} {path}", float(r.get("rps", 0))))
    if rps:
        save("throughput", "HTTP throughput (req/s)", bar_chart("HTTP throughput", "req/s", rps))
    steps = figures.get("readings", {}).get("timeline", [])
    if steps:
        users = ", ".join(str(r["users"]) for r in figures["readings"].get("steps", []))
        save(
            "readings-latency",
            f"Reading day over time: submission latency, Locust steps of {users} users",
            line_chart(
                "Reading day: submission latency over time",
                "seconds (one step after another)",
                "ms",
                [
                    ("p95", [(t["t"], t["p95_ms"]) for t in steps]),
                    ("p50", [(t["t"], t["p50_ms"]) for t in steps]),
                ],
                goal=300,
                goal_label="p95 goal 300 ms",
            ),
        )
        save(
            "readings-throughput",
            f"Reading day over time: submissions per second, Locust steps of {users} users",
            line_chart(
                "Reading day: submissions per second over time",
                "seconds (one step after another)",
                "submissions/s",
                [("submissions/s", [(t["t"], t["rps"]) for t in steps])],
                goal=150,
                goal_label="goal 150/s",
            ),
        )
    growth = figures.get("billing", {}).get("sizes", [])
    if len(growth) > 1:
        save(
            "billing-growth",
            "Billing run: time by number of ЛС (a straight line = linear cost)",
            line_chart(
                "Billing run cost growth",
                "ЛС (thousands)",
                "seconds",
                [
                    ("run", [(g["accounts"] / 1000, g["run_s"]) for g in growth]),
                    ("re-run", [(g["accounts"] / 1000, g["rerun_s"]) for g in growth]),
                    ("INSERT into table", [(g["accounts"] / 1e3, g["table_s"]) for g in growth]),
                ],
            ),
        )
    chat = figures.get("chat", {}).get("latencies_ms", [])
    if chat:
        save(
            "chat-latency",
            "Chat: each operator answer's latency to the customer's socket, in order sent",
            line_chart(
                "Chat operator → customer socket",
                "message",
                "ms",
                [("latency, ms", [(i + 1, v) for i, v in enumerate(chat)])],
                goal=100,
                goal_label="p95 goal 100 ms",
            ),
        )
    fanout = figures.get("notices", {}).get("sizes", [])
    if len(fanout) > 1 and all("seconds" in s and "recipients" in s for s in fanout):
        save(
            "fanout-growth",
            "Outage fan-out: time by number of recipients",
            line_chart(
                "Outage fan-out cost growth",
                "recipients (thousands)",
                "seconds",
                [("fan-out", [(s["recipients"] / 1000, s["seconds"]) for s in fanout])],
            ),
        )
    return made


def markdown(report: dict[str, Any], out_dir: Path, stem: str) -> str:
    m = report["machine"]
    lines = [
        f"# Abonent benchmarks — {report['at']}" + (" (quick)" if report["quick"] else ""),
        "",
        f"Commit `{report['commit']}`. Machine: {m['cores']} cores, "
        f"{m['memory_gb']} GiB, load average {m['load_average_at_start']} at the start and "
        f"{m.get('load_average_at_end', '—')} at the end (other sessions share the machine: "
        "judge each figure by its ratio to the limit measured beside it). "
        f"{m['python']}; {'; '.join(f'{k} {v}' for k, v in report['versions'].items())}.",
        "",
        f"Layout: {report['layout']}. Took {report['took_s']:.0f} s.",
        "",
        "| figure | result | limit in the same run | ratio | goal | met |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["table"]:
        met = {True: "yes", False: "**no**", None: "—"}[row.get("met")]
        lines.append(
            f"| {row['name']} | {row['result']} | {row.get('limit') or '—'} | "
            f"{_ratio(row.get('ratio'))} | {row.get('goal') or '—'} | {met} |"
        )
    notes = [row for row in report["table"] if row.get("note")]
    if notes:
        lines += ["", *[f"- **{row['name']}**: {row['note']}" for row in notes]]
    queries = report.get("queries", {})
    if queries:
        lines += [
            "",
            "## Per request, in-process (Django's test client over the same database)",
            "",
            "| request | queries | Django CPU ms per request |",
            "|---|---|---|",
        ]
        lines += [
            f"| {name} | {q['count']} | {q.get('cpu_ms', '—')} |" for name, q in queries.items()
        ]
    memory = report.get("memory", {})
    if memory:
        lines += ["", "## Memory", ""]
        lines += [f"- {k}: {_fmt(v)}" for k, v in memory.items()]
    growth = report["figures"].get("billing", {}).get("sizes", [])
    if growth:
        lines += [
            "",
            "## Billing run by size",
            "",
            "| ЛС | rows | run s | rows/s | re-run s | bare INSERT s | table INSERT s "
            "| peak RSS MB |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {g['accounts']:,} | {g['rows']:,} | {g['run_s']:.1f} | {g['rows_per_s']:,} | "
            f"{g['rerun_s']:.1f} | {g['bare_s']:.2f} | {g['table_s']:.1f} | {g['peak_rss_mb']} |"
            for g in growth
        ]
    fanout = report["figures"].get("notices", {}).get("sizes", [])
    if fanout:
        lines += [
            "",
            "## Outage fan-out by size",
            "",
            "| recipients | notices + deliveries s | notices/s | bare INSERT s | ratio |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {s['recipients']:,} | {s['seconds']:.2f} | {s['per_s']:,} | "
            f"{s['bulk_insert_s']:.2f} | {s['bulk_insert_s'] / s['seconds']:.0%} |"
            for s in fanout
        ]
    explain = report.get("explain", [])
    if explain:
        big = sum(1 for e in explain if e["seq_scan"])
        lines += [
            "",
            "## Access paths (EXPLAIN on the run's data)",
            "",
            f"{len(explain)} distinct statements of the probed requests; {big} scan a table of "
            "over 10,000 rows sequentially (sequential scans of small tables are the "
            "planner's right choice).",
            "",
        ]
        lines += [
            f"- {'**seq scan of a big table**' if e['seq_scan'] else 'ok'} — "
            f"`{' '.join(e['sql'].split())[:140]}` → {e['plan'][:160]}"
            for e in explain
        ]
    lines += ["", "## PostgreSQL settings of the run", ""]
    lines.append(", ".join(f"`{k}={v}`" for k, v in report.get("postgresql", {}).items()) or "—")
    made = charts(report, out_dir, stem)
    if made:
        lines += ["", "## Charts", ""]
        for caption, name in made:
            lines += [f"![{caption}]({name})", "", f"*{caption}*", ""]
    skipped = report.get("skipped", {})
    if skipped:
        lines += ["", "## Not measured in this run", ""]
        lines += [f"- {k}: {v}" for k, v in skipped.items()]
    return "\n".join(lines) + "\n"
