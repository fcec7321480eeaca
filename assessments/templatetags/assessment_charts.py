"""Small helpers for the server-rendered charts (inline SVG and CSS bars, no scripts)."""

from django import template

register = template.Library()


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@register.filter
def percent_of(value, maximum) -> str:
    """``value`` as a percentage of ``maximum``, 0 to 100, formatted for a CSS width."""
    value, maximum = _float(value), _float(maximum)
    if value is None or not maximum:
        return "0"
    return f"{max(0.0, min(100.0, 100.0 * value / maximum)):.1f}"


@register.filter
def half_percent_of(value, limit) -> str:
    """|value| as a share of half a bar (0 to 50): diverging bars grow from the middle."""
    value, limit = _float(value), _float(limit)
    if value is None or not limit:
        return "0"
    return f"{max(0.0, min(50.0, 50.0 * abs(value) / limit)):.1f}"


@register.filter
def scale_to(value, spec: str) -> str:
    """Map ``value`` from a domain to pixels: ``spec`` is "low,high,start,end"."""
    value = _float(value)
    low, high, start, end = (float(part) for part in spec.split(","))
    if value is None or high == low:
        return f"{start:.1f}"
    return f"{start + (value - low) * (end - start) / (high - low):.1f}"


@register.filter
def share(value) -> str:
    """0.4166 -> "42%"."""
    value = _float(value)
    return "—" if value is None else f"{round(100 * value)}%"


@register.filter
def signed(value) -> str:
    value = _float(value)
    if value is None:
        return "—"
    return f"{value:+.2f}".replace("+0.00", "0.00").replace("-0.00", "0.00")


@register.filter
def level_value(value) -> str:
    value = _float(value)
    return "—" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")
