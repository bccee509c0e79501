"""The project timeline as a server-rendered SVG: no script, no external library.

One bar per work package, a diamond per milestone and deliverable (under its work package), a
month axis and a vertical line for today. A slipped item keeps a hollow marker at its baseline
date, joined to its current date; an overdue item is red. Colours come from SVG presentation
attributes (portal.css may refine them through the classes), never from style attributes, so
the strict CSP holds. Screen readers get the chart's title and summary, and a visually hidden
table with the same dates.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from projects import health
from projects.models import ItemStatus, Milestone

WIDTH = 960
LABEL_WIDTH = 230
RIGHT_PAD = 16
AXIS_HEIGHT = 34
ROW_HEIGHT = 24
BAR_HEIGHT = 12
DIAMOND = 7  # half the diagonal, in px
MIN_LABEL_SPACING = 52  # px between two month labels
LABEL_CHARS = 32

#: Fill of an item's diamond by status; an overdue item is red whatever its status.
STATUS_FILL = {
    ItemStatus.PLANNED: "#0a6e8a",
    ItemStatus.SUBMITTED: "#5b3fa0",
    ItemStatus.ACCEPTED: "#1e6b3a",
    ItemStatus.CHANGES_REQUESTED: "#b7791f",
}
OVERDUE_FILL = "#b42318"
WP_FILL = "#7fb6c9"
TODAY_STROKE = "#c2410c"
GRID_STROKE = "#d6dde3"
INK = "#14212b"
INK_SOFT = "#4a5a66"
ROW_SHADE = "#f4f6f8"


def render_gantt(project, items, work_packages, today: datetime.date) -> SafeString:
    """The project's timeline: an accessible SVG followed by the same data as a table."""
    work_packages = sorted(work_packages, key=lambda wp: wp.number)
    items = sorted(items, key=lambda item: (item.due_date, item.code))
    if not work_packages and not items:
        return mark_safe(
            '<p class="gantt-empty muted">No work packages, milestones or deliverables yet.</p>'
        )
    running = health.is_running(project)
    rows = _rows(work_packages, items, running, today)
    scale = _Scale.around(project, rows)
    height = AXIS_HEIGHT + ROW_HEIGHT * len(rows) + 8
    ident = f"gantt-{project.pk}"
    overdue = sum(1 for row in rows if row.overdue)

    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="gantt-chart" role="img" '
            'aria-labelledby="{0}-title {0}-desc" viewBox="0 0 {1} {2}" width="{1}" '
            'height="{2}" preserveAspectRatio="xMinYMin meet" font-size="12" '
            'font-family="system-ui, sans-serif">',
            ident,
            WIDTH,
            height,
        ),
        format_html('<title id="{}-title">Timeline of {}</title>', ident, project.acronym),
        format_html(
            '<desc id="{}-desc">{}</desc>',
            ident,
            _summary(project, work_packages, items, overdue, scale, today),
        ),
        _shading(rows),
        _axis(scale, height),
        *(_row(row, index, scale) for index, row in enumerate(rows)),
        _today(scale, today, height),
        mark_safe("</svg>"),
    ]
    return format_html(
        '<figure class="gantt" aria-labelledby="{0}-caption">'
        '<figcaption id="{0}-caption" class="visually-hidden">Timeline of {1}</figcaption>'
        '<div class="gantt-scroll" role="region" tabindex="0" aria-labelledby="{0}-caption">'
        "{2}</div>{3}{4}</figure>",
        ident,
        project.acronym,
        mark_safe("".join(parts)),  # noqa: S308  (every part is built by format_html)
        _legend(),
        _table(project, rows),
    )


# --- Rows -------------------------------------------------------------------------------------


@dataclass
class _Row:
    kind: str  # "wp" or "item"
    label: str
    title: str
    start: datetime.date | None = None
    end: datetime.date | None = None
    due: datetime.date | None = None
    baseline: datetime.date | None = None
    status: str = ""
    status_label: str = ""
    item_kind: str = ""  # "milestone" or "deliverable"
    lead: str = ""
    overdue: bool = False

    @property
    def moved(self) -> bool:
        return self.baseline is not None and self.due is not None and self.baseline != self.due

    def dates(self) -> list[datetime.date]:
        return [d for d in (self.start, self.end, self.due, self.baseline) if d is not None]


def _rows(work_packages, items, running: bool, today: datetime.date) -> list[_Row]:
    by_wp = defaultdict(list)
    for item in items:
        by_wp[item.work_package_id].append(item)
    rows = []
    for wp in work_packages:
        rows.append(
            _Row(
                kind="wp",
                label=f"WP{wp.number} {wp.title}",
                title=wp.title,
                start=wp.start_date,
                end=wp.end_date,
                lead=str(wp.lead.organisation),
            )
        )
        rows.extend(_item_row(item, running, today) for item in by_wp.pop(wp.pk, []))
    for orphans in by_wp.values():  # items of work packages not passed in
        rows.extend(_item_row(item, running, today) for item in orphans)
    return rows


def _item_row(item, running: bool, today: datetime.date) -> _Row:
    kind = "milestone" if isinstance(item, Milestone) else "deliverable"
    return _Row(
        kind="item",
        label=f"{item.code} {item.title}",
        title=item.title,
        due=item.due_date,
        baseline=item.baseline_due_date,
        status=item.status,
        status_label=str(item.get_status_display()),
        item_kind=kind,
        overdue=running and health.is_overdue(item, today),
    )


# --- Scale and axis ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scale:
    start: datetime.date
    end: datetime.date  # exclusive: the first day after the chart

    @classmethod
    def around(cls, project, rows: list[_Row]) -> _Scale:
        dates = [project.start_date, project.end_date]
        for row in rows:
            dates.extend(row.dates())
        first, last = min(dates), max(dates)
        return cls(first.replace(day=1), _next_month(last))

    @property
    def days(self) -> int:
        return max((self.end - self.start).days, 1)

    def x(self, day: datetime.date) -> float:
        """The horizontal position of a day, rounded to a tenth of a pixel."""
        span = WIDTH - LABEL_WIDTH - RIGHT_PAD
        return round(LABEL_WIDTH + (day - self.start).days / self.days * span, 1)

    def contains(self, day: datetime.date) -> bool:
        return self.start <= day < self.end

    def months(self) -> list[datetime.date]:
        months, month = [], self.start
        while month < self.end:
            months.append(month)
            month = _next_month(month)
        return months


def _axis(scale: _Scale, height: int) -> SafeString:
    months = scale.months()
    month_width = (WIDTH - LABEL_WIDTH - RIGHT_PAD) / max(len(months), 1)
    step = max(1, -(-MIN_LABEL_SPACING // int(max(month_width, 1))))
    parts = []
    for index, month in enumerate(months):
        x = scale.x(month)
        parts.append(
            format_html(
                '<line class="gantt-grid" x1="{0}" y1="{1}" x2="{0}" y2="{2}" '
                'stroke="{3}" stroke-width="1"/>',
                x,
                AXIS_HEIGHT - 8,
                height,
                GRID_STROKE,
            )
        )
        if index % step == 0:
            text = month.strftime("%b %Y" if index == 0 or month.month == 1 else "%b")
            parts.append(
                format_html(
                    '<text class="gantt-month" x="{}" y="{}" fill="{}">{}</text>',
                    round(x + 3, 1),
                    AXIS_HEIGHT - 14,
                    INK_SOFT,
                    text,
                )
            )
    return mark_safe("".join(parts))  # noqa: S308  (built by format_html)


def _shading(rows: list[_Row]) -> SafeString:
    return format_html_join(
        "",
        '<rect class="gantt-row-shade" x="0" y="{}" width="{}" height="{}" fill="{}"/>',
        (
            (AXIS_HEIGHT + index * ROW_HEIGHT, WIDTH, ROW_HEIGHT, ROW_SHADE)
            for index, row in enumerate(rows)
            if row.kind == "wp"
        ),
    )


def _today(scale: _Scale, today: datetime.date, height: int) -> SafeString:
    if not scale.contains(today):
        return mark_safe("")
    x = scale.x(today)
    return format_html(
        '<g class="gantt-today"><line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{3}" '
        'stroke-width="2"/><text x="{4}" y="{5}" fill="{3}" font-weight="600">Today</text>'
        "</g>",
        x,
        AXIS_HEIGHT - 10,
        height,
        TODAY_STROKE,
        round(x + 4, 1),
        AXIS_HEIGHT - 1,
    )


# --- One row --------------------------------------------------------------------------------


def _row(row: _Row, index: int, scale: _Scale) -> SafeString:
    top = AXIS_HEIGHT + index * ROW_HEIGHT
    middle = top + ROW_HEIGHT / 2
    label = format_html(
        '<text class="gantt-label gantt-label-{}" x="{}" y="{}" fill="{}"{}>{}</text>',
        row.kind,
        8 if row.kind == "wp" else 22,
        middle + 4,
        INK,
        mark_safe(' font-weight="600"') if row.kind == "wp" else "",
        _shorten(row.label),
    )
    if row.kind == "wp":
        return format_html(
            '<g class="gantt-row gantt-row-wp"><title>{}</title>{}{}</g>',
            f"{row.label}: {_date(row.start)} to {_date(row.end)}, led by {row.lead}",
            label,
            _bar(row, scale, top),
        )
    classes = f"gantt-item gantt-{row.item_kind} gantt-status-{row.status}"
    if row.overdue:
        classes += " gantt-overdue"
    tooltip = f"{row.label}: due {_date(row.due)}, {row.status_label.lower()}"
    if row.moved:
        tooltip += f" (baseline {_date(row.baseline)})"
    if row.overdue:
        tooltip += ", overdue"
    return format_html(
        '<g class="gantt-row gantt-row-item"><title>{}</title>{}{}{}</g>',
        tooltip,
        label,
        _baseline(row, scale, middle),
        format_html(
            '<polygon class="{}" points="{}" fill="{}" stroke="{}" stroke-width="1"/>',
            classes,
            _diamond(scale.x(row.due), middle),
            OVERDUE_FILL if row.overdue else STATUS_FILL.get(row.status, INK_SOFT),
            "#ffffff",
        ),
    )


def _bar(row: _Row, scale: _Scale, top: int) -> SafeString:
    x = scale.x(row.start)
    width = round(max(scale.x(row.end + datetime.timedelta(days=1)) - x, 3), 1)
    return format_html(
        '<rect class="gantt-wp" x="{}" y="{}" width="{}" height="{}" rx="3" fill="{}"/>',
        x,
        top + (ROW_HEIGHT - BAR_HEIGHT) / 2,
        width,
        BAR_HEIGHT,
        WP_FILL,
    )


def _baseline(row: _Row, scale: _Scale, middle: float) -> SafeString:
    """A hollow marker at the baseline date, joined to the current date, when they differ."""
    if not row.moved:
        return mark_safe("")
    start, end = scale.x(row.baseline), scale.x(row.due)
    return format_html(
        '<line class="gantt-slip" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" '
        'stroke-width="1.5" stroke-dasharray="4 3"/>'
        '<polygon class="gantt-baseline" points="{}" fill="none" stroke="{}" '
        'stroke-width="1.5"/>',
        start,
        middle,
        end,
        middle,
        INK_SOFT,
        _diamond(start, middle),
        INK_SOFT,
    )


def _diamond(x: float, y: float) -> str:
    d = DIAMOND
    return f"{x:.1f},{y - d:.1f} {x + d:.1f},{y:.1f} {x:.1f},{y + d:.1f} {x - d:.1f},{y:.1f}"


# --- Words and table ------------------------------------------------------------------------


def _summary(project, work_packages, items, overdue: int, scale: _Scale, today) -> str:
    sentence = (
        f"{len(work_packages)} work package{'s' if len(work_packages) != 1 else ''} and "
        f"{len(items)} milestone{'s' if len(items) != 1 else ''} and deliverables, "
        f"from {_date(project.start_date)} to {_date(project.end_date)}."
    )
    if scale.contains(today):
        sentence += f" Today is {_date(today)}."
    if overdue:
        sentence += f" {overdue} overdue."
    return sentence + " The table after the chart lists the same dates."


def _legend() -> SafeString:
    entries = [
        ("gantt-key-wp", "Work package"),
        ("gantt-key-planned", "Planned"),
        ("gantt-key-submitted", "Submitted"),
        ("gantt-key-accepted", "Accepted"),
        ("gantt-key-changes_requested", "Changes requested"),
        ("gantt-key-overdue", "Overdue"),
        ("gantt-key-baseline", "Baseline date"),
        ("gantt-key-today", "Today"),
    ]
    return format_html(
        '<ul class="gantt-legend" aria-hidden="true">{}</ul>',
        format_html_join(
            "", '<li><span class="gantt-key {}"></span>{}</li>', ((c, t) for c, t in entries)
        ),
    )


def _table(project, rows: list[_Row]) -> SafeString:
    body = []
    for row in rows:
        if row.kind == "wp":
            body.append(
                format_html(
                    '<tr><th scope="row">{}</th><td>Work package led by {}</td>'
                    "<td>{}</td><td>{}</td><td></td><td></td></tr>",
                    row.label,
                    row.lead,
                    _date(row.start),
                    _date(row.end),
                )
            )
        else:
            body.append(
                format_html(
                    '<tr><th scope="row">{}</th><td>{}</td><td></td><td>{}</td><td>{}</td>'
                    "<td>{}{}</td></tr>",
                    row.label,
                    row.item_kind.capitalize(),
                    _date(row.due),
                    _date(row.baseline) if row.moved else "",
                    row.status_label,
                    ", overdue" if row.overdue else "",
                )
            )
    return format_html(
        '<div class="visually-hidden"><table><caption>Timeline of {}, as a table</caption>'
        '<thead><tr><th scope="col">Work package or item</th><th scope="col">Kind</th>'
        '<th scope="col">Start</th><th scope="col">End or due date</th>'
        '<th scope="col">Baseline date</th><th scope="col">Status</th></tr></thead>'
        "<tbody>{}</tbody></table></div>",
        project.acronym,
        mark_safe("".join(body)),  # noqa: S308  (built by format_html)
    )


def _shorten(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def _date(day: datetime.date | None) -> str:
    return f"{day.day} {day:%b %Y}" if day else ""


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
