"""The throughput run's own parts: the /proc reader, wrk's summary, the drawn mix and the
access log's per-page table."""

import http.server
import os
import shutil
import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest

from bench import throughput

DATA = Path(__file__).with_name("data")


def test_cpu_seconds_reads_this_process_as_the_kernel_counts_it():
    before = throughput.cpu_seconds("self")
    total = 0
    while throughput.cpu_seconds("self") - before < 0.1:
        total += sum(range(1000))
    ours = throughput.cpu_seconds(os.getpid())
    times = os.times()
    # The same clock-tick counters as os.times(), which reads them another way.
    assert abs(ours - (times.user + times.system)) < 0.05
    assert ours - before >= 0.1


def test_the_summary_wrk_printed_in_a_real_run():
    result = throughput.parse_wrk((DATA / "wrk-output.txt").read_text())
    assert result["requests"] == 69
    assert result["seconds"] == 10.03
    assert result["requests_per_s"] == 6.9
    assert (result["p50_ms"], result["p95_ms"], result["p99_ms"]) == (801.4, 2660.6, 2812.1)
    assert result["errors"] == 0
    assert result["statuses"] == {}


def test_non_200_answers_and_socket_errors_are_errors():
    sample = (DATA / "wrk-output.txt").read_text()
    sample = sample.replace(
        "BENCH non200 0", "BENCH non200 3\nBENCH status_302 2\nBENCH status_500 1"
    )
    sample = sample.replace("BENCH socket_timeout 0", "BENCH socket_timeout 4")
    result = throughput.parse_wrk(sample)
    assert result["errors"] == 7
    assert result["statuses"] == {"302": 2, "500": 1}
    assert result["socket_errors"]["timeout"] == 4


def test_wrk_output_without_the_scripts_summary_is_refused():
    with pytest.raises(ValueError, match="no summary"):
        throughput.parse_wrk("Running 10s test @ http://127.0.0.1:1\n")


def test_the_drawn_requests_follow_the_mix():
    next_pages = ["/resources/?page=2&after=x", "/resources/?page=3&after=y"]
    people = [
        {"cookie": "sessionid=a", "resources": [1, 2], "project": 9, "next_pages": next_pages},
        {"cookie": "sessionid=b", "resources": [], "project": None, "next_pages": []},
    ]
    drawn = throughput.draw(people, 20_000)
    assert drawn == throughput.draw(people, 20_000)  # the same every run
    counts = Counter(name for name, _, _ in drawn)
    assert counts["resource library"] / counts["dashboard"] == pytest.approx(2, rel=0.1)
    assert {url for name, cookie, url in drawn if cookie == "sessionid=b"}.isdisjoint(
        {"/resources/1/", "/resources/2/", "/projects/9/", *next_pages}
    )
    # Pages past the first are the ones reached by following Next.
    pages = {url for name, _, url in drawn if name == "resource library, page n"}
    assert pages == set(next_pages)


def test_per_page_table_from_the_access_log():
    names = {"/": "dashboard", "/resources/?tlp=amber": "resource library, filtered"}
    lines = [
        "200 12000 /?",
        "200 18000 /?",
        "302 1000 /?",
        "200 30000 /resources/?tlp=amber",
        "200 5000 /static/x.css?",
        "not a line",
    ]
    table = throughput.per_path(lines, names)
    assert table["dashboard"]["requests"] == 3
    assert table["dashboard"]["failures"] == 1
    assert table["dashboard"]["p50_ms"] == 12.0
    assert table["resource library, filtered"]["p99_ms"] == 30.0
    assert table["other"]["requests"] == 1


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk")
def test_the_lua_script_counts_every_answer_but_a_200(tmp_path):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status = 200 if self.path == "/ok" and "sessionid=a" in self.headers["Cookie"] else 302
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        requests = tmp_path / "requests.tsv"
        requests.write_text("sessionid=a\t/ok\nsessionid=a\t/ok\nsessionid=a\t/moved\n")
        script = tmp_path / "load.lua"
        script.write_text(throughput.lua_script(requests))
        port = server.server_address[1]
        done = subprocess.run(  # noqa: S603
            [
                shutil.which("wrk"),
                "-t1",
                "-c2",
                "-d1s",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    finally:
        server.shutdown()
    result = throughput.parse_wrk(done.stdout)
    assert result["requests"] > 10
    assert result["statuses"] == {"302": result["non_200"]}
    # Every third request is the redirect.
    assert result["non_200"] == pytest.approx(result["requests"] / 3, abs=3)
