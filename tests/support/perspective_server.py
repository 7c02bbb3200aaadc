"""A local server speaking the Perspective API's protocol (stdlib only, 127.0.0.1, an ephemeral port).

``POST /v1alpha1/comments:analyze?key=KEY`` answers a TOXICITY summary score: 0.9 when the comment contains
"idiot", else 0.1. ``requests`` records path, key and body of each call; ``failures`` lists status codes
to answer first, one per request (e.g. ``[429, 503]``), with ``Retry-After: 0``.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class PerspectiveStub:
    """POST /v1alpha1/comments:analyze -> a TOXICITY score: 0.9 when the text contains "idiot", else 0.1.
    ``failures`` lists status codes to answer first (one per request), e.g. [429, 503]."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.failures: list[int] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                query = parse_qs(urlsplit(self.path).query)
                stub.requests.append({"path": urlsplit(self.path).path, "key": query.get("key", [None])[0],
                                      "body": body})
                if stub.failures:
                    code = stub.failures.pop(0)
                    self.send_response(code)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(json.dumps({"error": {"message": f"failed; key={query.get('key')}"}}).encode())
                    return
                value = 0.9 if "idiot" in body["comment"]["text"] else 0.1
                payload = {"attributeScores": {"TOXICITY": {"summaryScore": {"value": value, "type": "PROBABILITY"}}}}
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
