"""A bare HTTP server with one scripted whoami answer, for tests that need a status, a body or
headers the local Hub never sends (403, an endless body, odd Retry-After values)."""

from __future__ import annotations

import http.server
import threading


class ScriptedHub:
    """A bare HTTP server answering every GET or POST with one scripted reply; records what it
    saw (method, path, lower-cased headers, body).

    ``body`` is sent as is; ``endless`` streams JSON padding until the client hangs up and counts
    the bytes that left."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b"{}"
        self.headers: dict[str, str] = {}
        self.endless = False
        self.stall = False  # headers and a first byte, then nothing until close()
        self.silent = False  # reads the request, answers nothing until close()
        self.stop = threading.Event()
        self.sent = 0
        self.requests: list[dict[str, str]] = []
        scripted = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the Hub: the socket stays the connection's

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                seen = {"method": self.command, "path": self.path,
                        **{k.lower(): v for k, v in self.headers.items()}}
                length = int(self.headers.get("Content-Length") or 0)
                seen["body"] = self.rfile.read(length).decode("latin-1") if length else ""
                scripted.requests.append(seen)
                if scripted.silent:
                    scripted.stop.wait(30)
                    return
                self.send_response(scripted.status)
                for key, value in scripted.headers.items():
                    self.send_header(key, value)
                if scripted.endless:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(scripted.body)))
                self.end_headers()
                try:
                    if scripted.stall:
                        self.wfile.write(scripted.body[:1])
                        self.wfile.flush()
                        scripted.stop.wait(30)
                        return
                    if not scripted.endless:
                        self.wfile.write(scripted.body)
                        return
                    self.wfile.write(b'{"name": "alice", "type": "user", "pad": "')
                    chunk = b"x" * 65536
                    while scripted.sent < 64 * 1024 * 1024:  # bounded even if nobody hangs up
                        self.wfile.write(chunk)
                        scripted.sent += len(chunk)
                except OSError:
                    pass  # the client hung up: what the cap is for

            do_POST = do_GET  # the OAuth calls: the form or JSON body is recorded as "body"

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # shutdown() waits up to one poll interval: 0.5 s by default, per test
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ScriptedHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
