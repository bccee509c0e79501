"""Walking a list as a person does: follow its Next (or Previous) link until there is none."""

import html
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

LINK = re.compile(r'<a class="button button-quiet" href="\?([^"]*)" rel="(prev|next)">')


def links(response) -> dict[str, str]:
    """The page's Previous and Next links, as query strings ("prev", "next")."""
    body = response.content.decode()
    return {rel: html.unescape(query) for query, rel in LINK.findall(body)}


def walk(client, url: str, rel: str = "next", **headers) -> list:
    """The responses from `url` on, following `rel` links; each request's queries counted."""
    path = url.split("?")[0]
    responses = []
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, **headers)
        assert response.status_code == 200, url
        response.queries = queries.captured_queries
        responses.append(response)
        following = links(response).get(rel)
        if following is None:
            return responses
        assert len(responses) < 100, "the walk does not end"
        url = f"{path}?{following}"


def pks(response) -> list[int]:
    return [row.pk for row in response.context["object_list"]]


def page_sql(response, table: str) -> list[str]:
    """The SQL of the queries that read the list's rows (the page), not the count's keys."""
    return [
        q["sql"]
        for q in response.queries
        if q["sql"].startswith("SELECT")
        and f'FROM "{table}"' in q["sql"]
        and " LIMIT " in q["sql"]
        and " ORDER BY " in q["sql"]
    ]
