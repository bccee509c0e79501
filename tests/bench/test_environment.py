"""The harness talks to Redis with two plain RESP commands, and stops when Redis is absent."""

import io
import socket
import socketserver
import threading

import pytest

from bench import environment


def test_commands_are_encoded_as_resp_arrays():
    assert environment.resp_encode(["SELECT", "3"]) == b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"


@pytest.mark.parametrize(
    ("wire", "text"),
    [(b"+PONG\r\n", "PONG"), (b":5\r\n", "5"), (b"$3\r\nabc\r\n", "abc"), (b"$-1\r\n", "")],
)
def test_simple_replies_are_read(wire, text):
    assert environment.resp_read(io.BytesIO(wire)) == text


def test_an_error_reply_raises():
    with pytest.raises(RuntimeError, match="WRONGPASS"):
        environment.resp_read(io.BytesIO(b"-WRONGPASS invalid password\r\n"))


def test_the_database_is_selected_before_the_command():
    seen = []

    class Redis(socketserver.StreamRequestHandler):
        def handle(self):
            for _ in range(2):
                count = int(self.rfile.readline()[1:])
                words = []
                for _ in range(count):
                    self.rfile.readline()
                    words.append(self.rfile.readline().strip().decode())
                seen.append(words)
                self.wfile.write(b"+PONG\r\n" if words == ["PING"] else b"+OK\r\n")

    server = socketserver.TCPServer(("127.0.0.1", 0), Redis)
    threading.Thread(target=server.handle_request, daemon=True).start()
    try:
        port = server.server_address[1]
        assert environment.redis_command(f"redis://127.0.0.1:{port}/3", "PING") == "PONG"
    finally:
        server.server_close()
    assert seen == [["SELECT", "3"], ["PING"]]


def test_no_redis_stops_the_run_saying_so(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once it is closed
    monkeypatch.setattr(environment, "REDIS_URL", f"redis://127.0.0.1:{port}/3")
    with pytest.raises(SystemExit, match="Redis is not reachable"):
        environment.prepare_redis()
