"""A real webhook receiver for url hooks: a threaded http.server on 127.0.0.1 that records
every request and answers with the next scripted answer (200 "ok" once none is left).

`hang` makes it hold each request unanswered until the test ends (timeouts, interrupts);
`echo_headers` makes it answer with the request's headers as its body (a receiver that
leaks what it was sent: the hook must still not).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    observed: object = None  # what `Receiver.observe` returned as the request arrived

    def signed_with(self, secret: str) -> bool:
        """True when the signature header is the HMAC-SHA256 of the body under `secret`."""
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers.get("X-Bluegreen-Signature", ""), expected)


@dataclass
class Answer:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Receiver:
    url: str = ""
    answers: list[Answer] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    hang: bool = False
    echo_headers: bool = False
    observe: Callable[[], object] | None = None  # called as each request arrives
    released: threading.Event = field(default_factory=threading.Event)

    def answer(self, *answers: Answer) -> None:
        self.answers.extend(answers)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = dict(self.headers.items())
            observed = receiver.observe() if receiver.observe else None
            receiver.received.append(Received(self.command, self.path, headers, body, observed))
            if receiver.hang:
                receiver.released.wait(60)
                return
            answer = receiver.answers.pop(0) if receiver.answers else Answer()
            text = "\n".join(f"{k}: {v}" for k, v in headers.items()) or answer.body
            data = (text if receiver.echo_headers else answer.body).encode()
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = _serve
        do_GET = _serve
        do_HEAD = _serve
        do_OPTIONS = _serve

        def log_message(self, *_: object) -> None:
            pass  # the test reads `received`, not stderr

    return Handler


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    # A proxy set in the environment must not stand between the hook and loopback.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    server.daemon_threads = True
    # A short poll: shutdown() waits for it, once per test.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield found
    found.released.set()
    server.shutdown()
    server.server_close()
