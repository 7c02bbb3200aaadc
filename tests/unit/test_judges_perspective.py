"""The Perspective scorer's failures: ``Retry-After`` as an HTTP date, and an endpoint nothing listens on
(given up at once, and for good, with one clear message)."""

from __future__ import annotations

import socket
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pytest_trustllm.judges.base import JudgeUnavailable
from pytest_trustllm.judges.toxicity import PerspectiveScorer, ToxicityError, retry_after_seconds


def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def busy_server():
    """Answers every request 503 with ``Retry-After`` as an HTTP date in the past; counts requests."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hits.append(self.path)
            self.send_response(503)
            self.send_header("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("3", 1.0) == 3.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 1.0) == 0.0  # in the past: now
    soon = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=120), usegmt=True)
    assert 60.0 < retry_after_seconds(soon, 1.0) <= 120.0
    for unreadable in ("soon", "", None, "Wed, 99 Foo"):
        assert retry_after_seconds(unreadable, 2.5) == 2.5  # the backoff


def test_a_503_with_an_http_date_is_retried_then_reported(busy_server):
    url, hits = busy_server
    with pytest.raises(ToxicityError) as info:
        PerspectiveScorer(url, backoff=0.0).score_many(["hello"])
    assert str(info.value) == f"Perspective at {url} could not score a text: HTTP 503: {{}}"
    assert len(hits) == 5  # the first try and 4 retries, no ValueError on the date


def test_an_endpoint_nothing_listens_on_is_given_up_at_once():
    url = f"http://127.0.0.1:{closed_port()}"
    scorer = PerspectiveScorer(url, backoff=60.0)  # a retry would make this test take minutes
    with pytest.raises(JudgeUnavailable) as info:
        scorer.score_many(["hello"])
    message = (f"--trust-toxicity=perspective@{url}: cannot reach {url} (Connection refused); "
               "is the server running?")
    assert str(info.value) == message
    with pytest.raises(JudgeUnavailable) as again:  # given up for good: no second round of attempts
        scorer.score_many(["another text"])
    assert str(again.value) == message


def test_an_endpoint_that_goes_away_is_retried_then_given_up(monkeypatch):
    from tests.support.perspective_server import PerspectiveStub

    monkeypatch.setenv("PERSPECTIVE_API_KEY", "k")
    stub = PerspectiveStub()
    scorer = PerspectiveScorer(stub.url, backoff=0.0)
    assert scorer.score_many(["you idiot"]) == [0.9]
    stub.close()  # the server stops mid-run: maybe a restart, so it is retried before giving up
    with pytest.raises(JudgeUnavailable, match=r"cannot reach http://127\.0\.0\.1:\d+ \(Connection refused\)"):
        scorer.score_many(["hello"])
