"""Bar charts as inline SVG, laid out here and drawn by templates/dashboard/chart.html: no
script, no request elsewhere; colours come from CSS classes (static/dashboard/dashboard.css),
so the charts follow the admin's light and dark themes. Every text goes through the
template's escaping."""

from dataclasses import dataclass, field

WIDTH = 600
HEIGHT = 180
LEFT = 70  # room for the value axis labels (vertical) or the row labels (horizontal)
BOTTOM = 20  # room for the day labels
TOP = 8
ROW_HEIGHT = 22
PALETTE_SIZE = 8  # .ds24-series-0 … -7 in dashboard.css


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # the colour, an index into the palette
    title: str  # the exact figure, shown on hover and read by screen readers


@dataclass
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass
class Chart:
    title: str
    desc: str
    height: float
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    baseline: float | None = None  # y of the zero line
    legend: list[tuple[int, str]] = field(default_factory=list)
    width: int = WIDTH
    id: str = ""  # for the SVG's aria-labelledby, unique on the page


def columns_chart(*, title, desc, columns, series_names=(), tick_every=7, value_text=str):
    """Vertical stacked bars: `columns` is [(label, [(series, value), …]), …]; positive values
    stack up from zero and negative ones down, so a day with more refunds than payments shows
    below the line."""
    top = max((sum(float(v) for _s, v in parts if v > 0) for _l, parts in columns), default=0)
    bottom = min((sum(float(v) for _s, v in parts if v < 0) for _l, parts in columns), default=0)
    span = (top - bottom) or 1
    plot = HEIGHT - TOP - BOTTOM
    zero = TOP + plot * top / span
    step = (WIDTH - LEFT) / max(len(columns), 1)
    chart = Chart(title, desc, HEIGHT, baseline=zero)
    chart.legend = [(n % PALETTE_SIZE, name) for n, name in enumerate(series_names)]
    for i, (label, parts) in enumerate(columns):
        x = LEFT + i * step + step * 0.1
        up, down = zero, zero
        for series, value in parts:
            height = plot * abs(float(value)) / span
            if value >= 0:
                up -= height
                y = up
            else:
                y = down
                down += height
            name = series_names[series] if series_names else ""
            text = f"{label}: {value_text(value)}" + (f" {name}" if name else "")
            chart.bars.append(Bar(x, y, step * 0.8, height, series % PALETTE_SIZE, text))
        last = len(columns) - 1
        # Every tick_every-th day, and the last, unless a tick stands too close before it.
        if i == last or (i % tick_every == 0 and last - i > tick_every // 2):
            chart.labels.append(Label(x + step * 0.4, HEIGHT - 5, label))
    chart.labels.append(Label(LEFT - 6, TOP + 10, value_text(top), "end"))
    if bottom:
        chart.labels.append(Label(LEFT - 6, HEIGHT - BOTTOM, value_text(bottom), "end"))
    chart.labels.append(Label(LEFT - 6, zero + 4, "0", "end"))
    return chart


def rows_chart(*, title, desc, rows, series_names=(), value_text=str):
    """Horizontal stacked bars, one row per item: `rows` is [(label, [(series, value), …],
    text shown after the bar), …]. Bars share one scale: the largest row's."""
    largest = max((sum(float(v) for _s, v in parts) for _l, parts, _t in rows), default=0) or 1
    room = WIDTH - LEFT - 2 * LEFT  # leaves room after the bar for its text
    height = TOP + ROW_HEIGHT * max(len(rows), 1)
    chart = Chart(title, desc, height)
    chart.legend = [(n % PALETTE_SIZE, name) for n, name in enumerate(series_names)]
    left = 2 * LEFT  # row labels are longer than axis labels
    for i, (label, parts, text) in enumerate(rows):
        y = TOP + i * ROW_HEIGHT
        x = left
        for series, value in parts:
            width = room * max(float(value), 0) / largest
            name = series_names[series] if series_names else ""
            title_text = f"{label}: {value_text(value)}" + (f" {name}" if name else "")
            chart.bars.append(Bar(x, y, width, ROW_HEIGHT - 6, series % PALETTE_SIZE, title_text))
            x += width
        chart.labels.append(Label(left - 6, y + ROW_HEIGHT - 10, label[:32], "end"))
        chart.labels.append(Label(x + 6, y + ROW_HEIGHT - 10, text, "start"))
    return chart
