"""An object's relationships, drawn on the server as a small SVG graph: no script, no library.

The object is in the middle. Around it are the objects it is related to:
- through `relationship` objects whose source_ref or target_ref is it (sources on the left,
  targets on the right);
- a relationship's own source and target;
- the objects a report, grouping, note or opinion references (`object_refs`, on the right),
  and the reports, groupings, notes and opinions that reference it (on the left).

Every related object is looked up through the access layer, so an object the viewer may not
see is not drawn at all: no blank node, no edge, no count. Colours are SVG presentation
attributes, never style attributes, so the strict CSP holds. The SVG is decoration for
sighted mouse users; the same relations follow it as a list of links, for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from intel.models import StixObject, StixVersion
from portal import access

#: How many related objects a side of the graph shows; the list below names the rest.
PER_SIDE = 7
WIDTH = 800
NODE_WIDTH = 210
GAP = (WIDTH - 3 * NODE_WIDTH - 16) / 2  # between a column and the centre
NODE_HEIGHT = 40
ROW = 54
LABEL_CHARS = 27

#: The types that reference other objects through object_refs.
REFERRING_TYPES = frozenset({"report", "grouping", "note", "opinion", "observed-data"})

_COLOURS = {
    "indicator": "#0a6e8a",
    "malware": "#9b1c1c",
    "tool": "#b7791f",
    "attack-pattern": "#b7791f",
    "vulnerability": "#c2410c",
    "threat-actor": "#5b3fa0",
    "intrusion-set": "#5b3fa0",
    "campaign": "#5b3fa0",
    "report": "#1e6b3a",
    "grouping": "#1e6b3a",
    "note": "#1e6b3a",
    "opinion": "#1e6b3a",
    "identity": "#0b3d5c",
}
_OBSERVABLE_COLOUR = "#4a5a66"
INK = "#14212b"
INK_SOFT = "#4a5a66"
EDGE = "#8a98a3"


@dataclass(frozen=True)
class Relation:
    """One related object the viewer may see, and how it is related."""

    other: StixObject
    label: str  # the relationship_type, or "refers to"
    incoming: bool  # the other object is the source, this one the target
    via: StixObject | None = None  # the relationship object, when there is one


def relations(user, obj: StixObject, data: dict) -> list[Relation]:
    """The objects related to obj (whose newest JSON is data) that the user may see."""
    visible = access.visible_to(user, StixObject.objects.all())
    found: list[tuple[str, str, bool, StixObject | None]] = []  # (stix id, label, in, via)
    if obj.type == "relationship":
        label = str(data.get("relationship_type", "related-to"))
        found.append((str(data.get("source_ref")), label, True, None))
        found.append((str(data.get("target_ref")), label, False, None))
    for ref in data.get("object_refs") or []:
        if obj.type in REFERRING_TYPES:
            found.append((str(ref), _("refers to"), False, None))
    sid = obj.stix_id
    versions = (
        StixVersion.objects.filter(
            is_last=True, object__type="relationship", object__in=visible.values("pk")
        )
        .filter(Q(data__source_ref=sid) | Q(data__target_ref=sid))
        .select_related("object")
        .order_by("object__added_at", "pk")[: PER_SIDE * 4]
    )
    for version in versions:
        rel = version.data
        label = str(rel.get("relationship_type", "related-to"))
        if rel.get("target_ref") == sid and rel.get("source_ref") != sid:
            found.append((str(rel.get("source_ref")), label, True, version.object))
        elif rel.get("source_ref") == sid and rel.get("target_ref") != sid:
            found.append((str(rel.get("target_ref")), label, False, version.object))
    # Reports, groupings, notes and opinions that reference it, on the left. The JSON text
    # narrows them portably (PostgreSQL and SQLite alike); the list itself decides.
    referring = (
        StixVersion.objects.filter(
            is_last=True,
            object__type__in=REFERRING_TYPES,
            object__in=visible.values("pk"),
            data__object_refs__icontains=sid,
        )
        .exclude(object=obj)
        .select_related("object")
        .order_by("object__added_at", "pk")[: PER_SIDE * 4]
    )
    for version in referring:
        if sid in (version.data.get("object_refs") or []):
            found.append((version.object.stix_id, _("refers to"), True, None))
    ends = _visible_ends(visible, {entry[0] for entry in found}, obj)
    seen, result = set(), []
    for stix_id, label, incoming, via in found:
        other = ends.get(stix_id)
        if other is None or other.pk == obj.pk:
            continue  # hidden, missing or the object itself: not drawn
        key = (other.pk, label, incoming)
        if key in seen:
            continue
        seen.add(key)
        result.append(Relation(other, label, incoming, via))
    return result


def readable(user, objects) -> None:
    """Give relationships and sightings a name people can read (`display`): the names of the
    objects they join, where the viewer may see those, else the short form of their ids.
    One query for all of them, however many there are."""
    ends: dict[StixObject, list[str]] = {}
    for obj in objects:
        refs = _refs_in_name(obj)
        if refs:
            ends[obj] = refs
    wanted = {ref for refs in ends.values() for ref in refs if "--" in ref}
    names: dict[str, str] = {}
    if wanted:
        visible = access.visible_to(user, StixObject.objects.filter(stix_id__in=sorted(wanted)))
        for stix_id, name in visible.order_by("added_at", "pk").values_list("stix_id", "name"):
            names.setdefault(stix_id, name)
    for obj, refs in ends.items():
        if obj.type == "sighting":
            obj.display = _("Sighting of %(what)s") % {"what": _end_name(refs[0], names)}
        else:
            source, kind, target = refs
            obj.display = f"{_end_name(source, names)} {kind} {_end_name(target, names)}"


def label_of(obj: StixObject) -> str:
    return getattr(obj, "display", "") or obj.title


def render(obj: StixObject, found: list[Relation]) -> SafeString:
    """The graph as inline SVG; empty when there is nothing related to draw."""
    if not found:
        return mark_safe("")
    left, right = _sides(found)
    rows = max(len(left), len(right), 1)
    height = rows * ROW + 20
    centre_y = height / 2
    # Without a left column the centre moves left, so one relation is not a wide thin strip.
    width = WIDTH if left else WIDTH - NODE_WIDTH - GAP
    centre_x = (WIDTH - NODE_WIDTH) / 2 if left else 8
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="intel-graph-chart" aria-hidden="true"'
            ' focusable="false" viewBox="0 0 {0} {1}" width="{0}" height="{1}"'
            ' preserveAspectRatio="xMidYMin meet" font-size="12"'
            ' font-family="system-ui, sans-serif">',
            width,
            height,
        ),
        format_html(
            '<defs><marker id="intel-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
            'markerWidth="7" markerHeight="7" orient="auto">'
            '<path d="M0 0 L10 5 L0 10 z" fill="{}"/></marker></defs>',
            EDGE,
        ),
    ]
    for side, column in (("left", left), ("right", right)):
        top = centre_y - len(column) * ROW / 2
        for index, relation in enumerate(column):
            y = top + index * ROW + (ROW - NODE_HEIGHT) / 2
            x = 8 if side == "left" else width - NODE_WIDTH - 8
            parts.append(_edge(relation, side, x, y + NODE_HEIGHT / 2, centre_x, centre_y))
            parts.append(_node(relation.other, x, y, link=True))
    parts.append(_node(obj, centre_x, centre_y - NODE_HEIGHT / 2, link=False, centre=True))
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308  (every part is built by format_html)


def hidden_count(found: list[Relation]) -> int:
    """How many of the (visible) related objects the graph had no room for."""
    left, right = _sides(found)
    return len(found) - len(left) - len(right)


def _sides(found: list[Relation]) -> tuple[list[Relation], list[Relation]]:
    """Sources on the left, targets on the right; when one side is empty, the other is split
    between both, so a report's references do not all pile up on one side."""
    left = [r for r in found if r.incoming]
    right = [r for r in found if not r.incoming]
    if not left and len(right) > 1:
        left, right = right[1::2], right[::2]
    elif not right and len(left) > 1:
        left, right = left[::2], left[1::2]
    return left[:PER_SIDE], right[:PER_SIDE]


# --- Helpers --------------------------------------------------------------------------------


def _visible_ends(visible, stix_ids: set[str], obj: StixObject) -> dict[str, StixObject]:
    """For each STIX id, the one object holding it that the viewer may see; the object's own
    owner's copy first (ids are unique per owner, not across the portal)."""
    if not stix_ids:
        return {}
    ends: dict[str, StixObject] = {}
    candidates = visible.filter(stix_id__in=sorted(stix_ids)).order_by("added_at", "pk")
    for candidate in candidates.only("pk", "stix_id", "type", "name", "owner_id", "added_at"):
        held = ends.get(candidate.stix_id)
        if held is None or (candidate.owner_id == obj.owner_id and held.owner_id != obj.owner_id):
            ends[candidate.stix_id] = candidate
    return ends


def _refs_in_name(obj: StixObject) -> list[str]:
    """The ids the stored name of a relationship ("<source> <type> <target>") or a sighting
    ("Sighting of <id>") carries; empty for every other object."""
    if obj.type == "relationship":
        parts = obj.name.split(" ")
        return parts if len(parts) == 3 else []
    if obj.type == "sighting" and obj.name.startswith("Sighting of "):
        return [obj.name.removeprefix("Sighting of ")]
    return []


def _end_name(stix_id: str, names: dict[str, str]) -> str:
    if stix_id in names and names[stix_id] != stix_id:
        return names[stix_id]
    kind, _sep, rest = stix_id.partition("--")
    return f"{kind}--{rest[:8]}…" if rest else stix_id


def _colour(stix_type: str) -> str:
    return _COLOURS.get(stix_type, _OBSERVABLE_COLOUR)


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _node(obj: StixObject, x: float, y: float, *, link: bool, centre: bool = False) -> SafeString:
    colour = _colour(obj.type)
    body = format_html(
        '<g class="intel-graph-node{}"><title>{} ({})</title>'
        '<rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="#ffffff" stroke="{}"'
        ' stroke-width="{}"/>'
        '<rect x="{}" y="{}" width="5" height="{}" rx="2" fill="{}"/>'
        '<text x="{}" y="{}" fill="{}" font-size="10">{}</text>'
        '<text x="{}" y="{}" fill="{}" font-weight="{}">{}</text></g>',
        " intel-graph-centre" if centre else "",
        label_of(obj),
        obj.type,
        _n(x),
        _n(y),
        NODE_WIDTH,
        NODE_HEIGHT,
        colour,
        3 if centre else 1.5,
        _n(x + 1.5),
        _n(y + 1.5),
        NODE_HEIGHT - 3,
        colour,
        _n(x + 12),
        _n(y + 15),
        INK_SOFT,
        obj.type,
        _n(x + 12),
        _n(y + 31),
        INK,
        700 if centre else 600,
        _short(label_of(obj)),
    )
    if not link:
        return body
    # Keyboard and screen reader users get the same links in the list after the graph.
    return format_html(
        '<a href="{}" tabindex="-1" class="intel-graph-link">{}</a>', obj.get_absolute_url(), body
    )


def _edge(relation: Relation, side: str, x: float, y: float, cx: float, cy: float) -> SafeString:
    """A line between the centre and a node, its arrow pointing at the relationship's target."""
    if side == "left":
        node_end, centre_end = (x + NODE_WIDTH, y), (cx, cy)
        label_x, anchor = x + NODE_WIDTH + 6, "start"
    else:
        node_end, centre_end = (x, y), (cx + NODE_WIDTH, cy)
        label_x, anchor = x - 6, "end"
    start, end = (node_end, centre_end) if relation.incoming else (centre_end, node_end)
    return format_html(
        '<g class="intel-graph-edge"><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" '
        'stroke-width="1.5" marker-end="url(#intel-arrow)"/>'
        '<text x="{}" y="{}" fill="{}" font-size="11" text-anchor="{}">{}</text></g>',
        _n(start[0]),
        _n(start[1]),
        _n(end[0]),
        _n(end[1]),
        EDGE,
        _n(label_x),
        _n(y - 6),
        INK_SOFT,
        anchor,
        _short(relation.label, 16),
    )


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")
