"""The latency run reaches the library's deep page by following each page's Next link."""

from bench.latency import follow_next, next_link

#: The pagination component as it renders today (page numbers).
NUMBERED = """
<nav class="pagination" aria-label="Pages">
  <a class="button" href="?tlp=amber&amp;kind=report&amp;page=1" rel="prev">← Previous</a>
  <span class="pagination-status">Page 2</span>
  <a class="button" href="?tlp=amber&amp;kind=report&amp;page=3" rel="next">Next →</a>
</nav>
"""


def test_the_next_link_of_the_numbered_pagination_unescaped():
    assert next_link(NUMBERED) == "?tlp=amber&kind=report&page=3"


def test_a_keyset_link_in_another_attribute_order_and_quoting():
    page = "<a rel='nofollow next' class=x\nhref='/resources/?after=eyJjIjoxfQ%3D%3D&amp;q=a'>"
    assert next_link(page) == "/resources/?after=eyJjIjoxfQ%3D%3D&q=a"


def test_no_next_link_on_the_last_page():
    last = '<a href="?page=4" rel="prev">Previous</a><link rel="next" href="/elsewhere">'
    assert next_link(last) is None
    assert next_link('<a rel="next">Next</a>') is None  # no href: nothing to follow


def _site(pages):
    visited = []

    class Response:
        status_code = 200

        def __init__(self, body):
            self.content = body.encode()

    def get(url):
        visited.append(url)
        return Response(pages[url])

    return get, visited


def test_following_next_from_the_first_page_resolves_relative_links():
    get, visited = _site(
        {
            "/resources/": '<a href="?after=b" rel="next">',
            "/resources/?after=b": '<a href="?after=c" rel="next">',
            "/resources/?after=c": "<p>the end</p>",
        }
    )
    assert follow_next(get, "/resources/", 200) == (3, "/resources/?after=c")
    assert visited == ["/resources/", "/resources/?after=b", "/resources/?after=c"]


def test_following_next_stops_at_the_page_asked_for():
    pages = {"/r/": '<a href="?page=2" rel="next">'}
    pages |= {f"/r/?page={n}": f'<a href="?page={n + 1}" rel="next">' for n in range(2, 9)}
    get, visited = _site(pages)
    assert follow_next(get, "/r/", 5) == (5, "/r/?page=5")
    assert len(visited) == 4  # page 5 itself is not requested: it is the one to time
