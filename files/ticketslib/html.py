"""The trend page: one self-contained HTML file (inline SVG chart and CSS, no
script, no external resource; a Content-Security-Policy forbids any), written
atomically."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from .history import Run, categories, change, time_text
from .store import write_atomic
from .text import LABELS

# The plot area inside the SVG's view box (room for the axis labels around it).
WIDTH, HEIGHT = 960, 360
LEFT, TOP, RIGHT, BOTTOM = 56, 16, 16, 40
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
TOTAL_COLOR = "#111111"

STYLE = """
body { font: 15px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 24px 0 8px; }
.range { color: #555; margin: 0 0 12px; }
svg { max-width: 100%; height: auto; border: 1px solid #ddd; }
svg text { font: 12px system-ui, sans-serif; fill: #555; }
.grid { stroke: #eee; }
.axis { stroke: #999; }
polyline { fill: none; stroke-width: 1.5; stroke-linejoin: round; }
polyline[data-series="total"] { stroke-width: 3; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
.legend span { display: inline-block; width: 14px; height: 4px; margin-right: 6px;
  vertical-align: middle; }
table { border-collapse: collapse; }
th, td { padding: 3px 12px; border-bottom: 1px solid #eee; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; }
"""


def color(index: int) -> str:
    """Distinct hues for the categories (golden-angle steps)."""
    return f"hsl({(index * 137.508) % 360:.0f}, 65%, 45%)"


def nice_max(value: int, steps: int = 4) -> int:
    """The top of the y axis: ``steps`` grid steps of 1, 2, 2.5 or 5 times a power of ten."""
    least = max(1, math.ceil(value / steps))
    power = 10 ** math.floor(math.log10(least))
    multiples = (10, 20, 25, 50, 100) if power >= 10 else (10, 20, 50, 100)
    return steps * next(m * power // 10 for m in multiples if m * power // 10 >= least)


def render(runs: Sequence[Run], lang: str) -> str:
    """The page for these runs (oldest first)."""
    labels = LABELS[lang]
    title = escape(labels["page_title"])
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
    ]
    if not runs:
        parts.append(f'<p class="range">{escape(labels["no_runs"])}</p></body></html>')
        return "\n".join(parts) + "\n"
    span = f"{time_text(runs[0].time)} – {time_text(runs[-1].time)} UTC"
    parts.append(
        f'<p class="range" id="range" data-runs="{len(runs)}">{span} '
        f"({escape(labels['runs'])}: {len(runs)})</p>"
    )
    parts += chart(runs, labels)
    parts += latest_table(runs, labels)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def chart(runs: Sequence[Run], labels: dict[str, str]) -> list[str]:
    """An SVG line chart: the unresolved total and one line per category."""
    names = categories(runs)
    y_max = nice_max(max(run.open for run in runs))
    start, end = runs[0].time.timestamp(), runs[-1].time.timestamp()
    span = end - start

    def x(run: Run) -> float:
        return LEFT + (PLOT_W * (run.time.timestamp() - start) / span if span else PLOT_W / 2)

    def y(value: int) -> float:
        return TOP + PLOT_H * (1 - value / y_max)

    xs = [f"{x(run):.1f}" for run in runs]
    out = [
        f'<svg id="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(labels["chart"])}" '
        f'data-left="{LEFT}" data-top="{TOP}" data-width="{PLOT_W}" data-height="{PLOT_H}" '
        f'data-y-max="{y_max}" data-start="{start:.0f}" data-end="{end:.0f}">',
        f"<title>{escape(labels['chart'])}</title>",
    ]
    for step in range(5):  # horizontal grid lines and y labels
        value = y_max * step / 4
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/><text x="{LEFT - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value:g}</text>'
        )
    out.append(
        f'<line class="axis" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{TOP + PLOT_H}" '
        f'y2="{TOP + PLOT_H}"/>'
    )
    ticks = sorted({0, len(runs) // 2, len(runs) - 1})
    for i, tick in enumerate(ticks):  # time labels: first, middle, last run
        anchor = "start" if i == 0 else "end" if tick == len(runs) - 1 else "middle"
        out.append(
            f'<text x="{xs[tick]}" y="{HEIGHT - 14}" text-anchor="{anchor}">'
            f"{time_text(runs[tick].time)[:16]}</text>"
        )
    series = [(category, color(i), category) for i, category in enumerate(names)]
    for key, stroke, category in [*series, ("total", TOTAL_COLOR, None)]:
        values = [run.by_category.get(category, 0) if category else run.open for run in runs]
        points = " ".join(f"{px},{y(v):.1f}" for px, v in zip(xs, values))
        name = labels["total"] if category is None else category
        out.append(
            f'<polyline data-series="{escape(key)}" stroke="{stroke}" points="{points}">'
            f"<title>{escape(name)}</title></polyline>"
        )
    out.append("</svg>")
    out.append('<ul class="legend">')
    out.append(f'<li><span style="background:{TOTAL_COLOR}"></span>{escape(labels["total"])}</li>')
    out += [
        f'<li><span style="background:{stroke}"></span>{escape(name)}</li>'
        for _, stroke, name in series
    ]
    out.append("</ul>")
    return out


def latest_table(runs: Sequence[Run], labels: dict[str, str]) -> list[str]:
    """The newest run: unresolved tickets per category, with the change since the run before."""
    run = runs[-1]
    previous = runs[-2] if len(runs) > 1 else None
    out = [
        f"<h2>{escape(labels['latest'])}: {time_text(run.time)} UTC "
        f"({escape(labels['report'])} {escape(run.report)})</h2>",
        f'<table id="latest"><thead><tr><th>{escape(labels["category"])}</th>'
        f"<th>{escape(labels['unresolved'])}</th><th>{escape(labels['change'])}</th></tr></thead><tbody>",
    ]
    shown_categories = set(run.by_category) | set(previous.by_category if previous else ())
    for category in sorted(shown_categories):
        count = run.by_category.get(category, 0)
        if previous is None:
            delta = ""
        else:
            difference = count - previous.by_category.get(category, 0)
            delta = f"{difference:+d}" if difference else "0"
        out.append(
            f'<tr><td>{escape(category)}</td><td class="n">{count}</td>'
            f'<td class="n">{delta}</td></tr>'
        )
    out.append(
        f'<tr class="total"><td>{escape(labels["total"])}</td><td class="n">{run.open}</td>'
        f'<td class="n">{change(run, previous)}</td></tr></tbody></table>'
    )
    return out


def write_page(path: str, runs: Sequence[Run], lang: str) -> None:
    """Write the page to PATH atomically (raises OSError)."""
    write_atomic(path, render(runs, lang).encode("utf-8"))
