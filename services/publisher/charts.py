"""Bar charts drawn as inline SVG on the server, so the portal needs no script or CDN."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 240
MARGIN_LEFT = 48
MARGIN_BOTTOM = 28
MARGIN_TOP = 12
LEGEND_HEIGHT = 20


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    values: Sequence[float]  # one per category


def _nice_ceiling(value: float) -> float:
    """The smallest 1/2/5×10^n not below value, so axis labels are round numbers."""
    if value <= 0:
        return 1
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series], *, stacked: bool) -> Markup:
    """Stacked bars (parts of a whole) or grouped bars (separate quantities) per category.

    Each bar carries a <title>, so hovering shows the exact number.
    """
    plot_width = WIDTH - MARGIN_LEFT - 8
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM - LEGEND_HEIGHT
    if stacked:
        peak = max((sum(s.values[i] for s in series) for i in range(len(categories))), default=0)
    else:
        peak = max((v for s in series for v in s.values), default=0)
    top = _nice_ceiling(peak)
    slot = plot_width / max(len(categories), 1)
    bar_width = slot * 0.6 if stacked else slot * 0.7 / max(len(series), 1)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    base_y = MARGIN_TOP + plot_height
    for fraction in (0, 0.5, 1):
        y = base_y - plot_height * fraction
        parts.append(f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{MARGIN_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{_label(top * fraction)}</text>'
        )
    for index, category in enumerate(categories):
        slot_x = MARGIN_LEFT + slot * index
        stacked_height = 0.0
        for position, one in enumerate(series):
            value = one.values[index]
            height = plot_height * value / top
            if stacked:
                x = slot_x + (slot - bar_width) / 2
                y = base_y - stacked_height - height
                stacked_height += height
            else:
                x = slot_x + slot * 0.15 + bar_width * position
                y = base_y - height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{height:.1f}" fill="{one.color}">'
                f"<title>{escape(category)} {escape(one.name)}：{_label(value)}</title></rect>"
            )
        parts.append(
            f'<text x="{slot_x + slot / 2:.1f}" y="{base_y + 16}" text-anchor="middle">{escape(category)}</text>'
        )
    legend_x = MARGIN_LEFT
    for one in series:
        parts.append(f'<rect x="{legend_x}" y="{HEIGHT - 14}" width="10" height="10" fill="{one.color}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="{HEIGHT - 5}">{escape(one.name)}</text>')
        legend_x += 14 + 13 * len(one.name) + 16
    parts.append("</svg>")
    return Markup("".join(parts))
