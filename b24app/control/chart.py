"""The weekly chart: requests created vs. paid/signed, as inline SVG drawn on the server. Pure.

No script, no external file: bars in two colours per week, a value on each bar, the week's Monday below.
Labels come in already translated; the SVG is escaped text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

WIDTH, HEIGHT, PAD, FOOT = 640, 220, 28, 34
COLOURS = ("#2fc6f6", "#7bd500")


@dataclass(frozen=True)
class Week:
    monday: date
    created: int
    completed: int


def weekly_svg(weeks: Sequence[Week], labels: tuple[str, str], title: str) -> str:
    """An ``<svg>`` of ``created``/``completed`` bars per week, with a legend of ``labels``."""
    top = max([1] + [max(w.created, w.completed) for w in weeks])
    slot = (WIDTH - 2 * PAD) / max(len(weeks), 1)
    bar = slot * 0.35
    plot = HEIGHT - PAD - FOOT
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>',
             f'<line x1="{PAD}" y1="{PAD + plot}" x2="{WIDTH - PAD}" y2="{PAD + plot}" stroke="#bbb"/>']
    for index, week in enumerate(weeks):
        x = PAD + index * slot + slot * 0.12
        for offset, (value, colour) in enumerate(zip((week.created, week.completed), COLOURS, strict=True)):
            h = plot * value / top
            left = x + offset * bar
            parts.append(f'<rect x="{left:.1f}" y="{PAD + plot - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{escape(labels[offset])}: {value}</title></rect>')
            parts.append(f'<text x="{left + bar / 2:.1f}" y="{PAD + plot - h - 3:.1f}" font-size="11" '
                         f'text-anchor="middle">{value}</text>')
        parts.append(f'<text x="{x + bar:.1f}" y="{PAD + plot + 16}" font-size="11" text-anchor="middle">'
                     f'{week.monday:%d.%m}</text>')
    for index, (label, colour) in enumerate(zip(labels, COLOURS, strict=True)):
        lx = PAD + index * 180
        parts.append(f'<rect x="{lx}" y="6" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{lx + 16}" y="16" font-size="12">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
