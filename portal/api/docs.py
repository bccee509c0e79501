"""What the API documentation says: the areas its operations are grouped in, and the shape of
every operation's description (what it does, who may do it, what it answers).

`tag_by_area` is a drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS), so the grouping
is decided here, by path, for every operation at once: a new endpoint lands in its area, and
tests/portal/test_api_docs.py fails for one under no area.
"""

from drf_spectacular.utils import extend_schema

#: The areas, in the order the docs show them, with what each holds.
TAGS = [
    {
        "name": "account",
        "description": "You: who you are, your organisation and roles, and your API token.",
    },
    {
        "name": "organisations",
        "description": "The organisation directory, and member lists where your organisation "
        "may see them.",
    },
    {
        "name": "agreements",
        "description": "Agreements between organisations: drafting, designating signatories, "
        "signing, declining, amending, terminating, and the signed evidence.",
    },
    {
        "name": "resources",
        "description": "Reports, datasets and tools: upload, versions, downloads, shares under "
        "agreements in force, and the owner's access report.",
    },
    {
        "name": "projects",
        "description": "Joint projects and exercises: consortium, work packages, milestones and "
        "deliverables, submissions and reviews, contributions.",
    },
    {
        "name": "intel",
        "description": "Threat intelligence as STIX 2.1: objects, imports, exports, shares, "
        "sightings and correlations. Tools can also use TAXII 2.1 at `/taxii2/` (same "
        "token, as HTTP Basic password or `Authorization: Token …`).",
    },
    {
        "name": "audit",
        "description": "The audit trail's signed head, for organisation admins to keep outside "
        "the portal.",
    },
]

#: The first path segment under /api/v1/ -> its area.
AREAS = {
    "me": "account",
    "auth": "account",
    "organisations": "organisations",
    "agreements": "agreements",
    "resources": "resources",
    "projects": "projects",
    "intel": "intel",
    "audit": "audit",
}

PREFIX = "/api/v1/"


def describe(does: str, *, who: str, answers: str):
    """An operation's description, always in the same three parts."""
    return extend_schema(description=f"{does}\n\n**Who may:** {who}\n\n**Answers:** {answers}")


def tag_by_area(result, generator, request, public):
    """Put every operation under its area's tag (instead of one "v1" for all), and list the
    areas with their descriptions in the docs' order."""
    result["tags"] = TAGS
    for path, operations in result.get("paths", {}).items():
        segment = path.removeprefix(PREFIX).split("/", 1)[0]
        area = AREAS.get(segment)
        for operation in operations.values():
            if isinstance(operation, dict) and "operationId" in operation and area:
                operation["tags"] = [area]
    return result
