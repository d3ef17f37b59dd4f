"""The simulated AWS as a server on loopback, for a `bluegreen` command in another process.

    bluegreen (another process) ── AWS_ENDPOINT_URL ──────────┐
                                ── BLUEGREEN_SANDBOX_CLOCK ──┐│
    SandboxServer (127.0.0.1:port, one werkzeug server)      ││
      /_bluegreen/clock  virtual time: GET now, POST sleep ◄─┘│
      http://<lb dns>/…  the load balancers, as an HTTP proxy ◄─ HTTP_PROXY (lb_http.py)
      anything else      faults.wrap_wsgi → (world lock) → moto ◄┘
    clock thread: every `step` real seconds, under the world lock, the sandbox's
      VirtualClock advances by the real time elapsed × `speed`: the simulators tick.

The virtual time — its clock thread (SharedTime, `server.time`) and the endpoint — is
server_clock.py's; this module serves the world and moto around it.

Rules:
- One world per process. moto's backends are process-global: `start()` resets them and
  installs the sandbox's simulators on them (core.install_simulators) — the very ones
  `in_process` uses, so the server's world behaves as the in-process one. It refuses to
  start while moto's in-process mock (`mock_aws`, `in_process`) is active: both would
  claim the same backends, and the mock would answer this process's own boto3 calls.
- Time moves by itself, at `speed` × real time, moved only by `server.time` (its thread,
  or `server.time.advance(s)` to jump ahead). A process following it (RemoteClock, or
  `server.time` here) sleeps by waiting for it; code in the server's process that touches
  the world (moto's backends, the sandbox's state) holds `server.lock`.
- One world lock (an RLock) is held while the clock ticks and while moto answers a
  request, body included: a simulator never sees a half-applied call, nor a call a
  half-moved world. Faults are decided before the lock, so a `slow` rule waits on the
  shared time (`server.time`) without stopping the world.
- The server speaks HTTP/1.0, one connection per request: no keep-alive connection keeps
  a handler thread alive once `stop()` returned.
- A simulator raising on a tick does not stop time (every client would hang): the error
  is kept in `server.time.errors` and logged.

`build_demo_world(server)` builds the demo stack (stack.py) through the server's endpoint,
with time paused while it does, exactly as `build_stack` builds it in process.
"""

from __future__ import annotations

import functools
import signal
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any
from unittest import mock

import boto3
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bluegreen.sandbox.core import install_simulators, uninstall_simulators
from bluegreen.sandbox.faults import wrap_wsgi
from bluegreen.sandbox.lb_http import LoadBalancerFront, proxy_env
from bluegreen.sandbox.remote_clock import ENV_VAR as CLOCK_ENV_VAR
from bluegreen.sandbox.server_clock import CLOCK_PATH, STEP, SharedTime, with_clock
from bluegreen.sandbox.stack import SandboxStack, build_stack
from bluegreen.sandbox.world import Sandbox

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class SandboxServer:
    """The sandbox's world served on `host`:`port` (0: a free port) at `speed` × real time.

    Start with `start()` or `with`; `endpoint_url` is AWS_ENDPOINT_URL for clients and
    `clock_url` their BLUEGREEN_SANDBOX_CLOCK (`client_env()` gives both, with fake
    credentials).
    """

    def __init__(
        self,
        sandbox: Sandbox,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 60.0,
        step: float = STEP,
    ) -> None:
        self.sandbox, self.host, self.port = sandbox, host, port
        self.lock = threading.RLock()
        self.time = SharedTime(sandbox.clock, speed, self.lock, step)
        self.load_balancers = LoadBalancerFront(sandbox, self.lock)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        # As `in_process` has it: Lambda echoes the payload instead of needing Docker.
        self._lambda_config = _no_docker_lambda()

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def clock_url(self) -> str:
        return self.endpoint_url + CLOCK_PATH

    def client_env(self) -> dict[str, str]:
        """The environment a `bluegreen` process needs to work on this server."""
        region = self.sandbox.region
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            CLOCK_ENV_VAR: self.clock_url,
            **FAKE_CREDENTIALS,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            **proxy_env(self.endpoint_url),  # smoke checks reach the load balancers here
        }

    def start(self) -> SandboxServer:
        if self._server is not None:
            raise RuntimeError("this SandboxServer is already serving")
        _refuse_in_process_mock()
        _reset_moto()
        self._lambda_config.start()
        try:
            install_simulators(self.sandbox)
            self._server = self._bind()
        except BaseException:
            self._undo_install()
            raise
        self.port = self._server.port
        # A `slow` fault waits on the shared time, outside the world lock.
        self.sandbox.faults.clock = self.time
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long shutdown() may wait
            name="bluegreen-sandbox-server",
            daemon=True,
        )
        self._thread.start()
        self.time.start()
        return self

    def stop(self) -> None:
        """Stop time, then the server; put moto's own behaviour back. The world's state
        stays in moto's backends for inspection until the next start or mock."""
        if self._server is None:
            return
        self.time.stop()  # first: it releases the held sleep requests
        self.load_balancers.stopping.set()  # and the requests held by a hanging app
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self._server = None
        self.sandbox.faults.clock = self.sandbox.clock
        with self.lock:  # no request is inside moto while its behaviour is swapped back
            self._undo_install()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _bind(self) -> BaseWSGIServer:
        # Bound here, not in the serving thread (as ThreadedMotoServer does, leaving start()
        # waiting forever when that fails), and on a socket of ours: werkzeug's own bind
        # prints and calls sys.exit on a port in use, where a library raises OSError.
        listening = _listening_socket(self.host, self.port)
        try:
            return make_server(
                self.host,
                self.port,
                self._app(),
                threaded=True,
                request_handler=_Handler,
                fd=listening.fileno(),
            )
        finally:
            listening.close()  # werkzeug serves on a duplicate of it

    def _app(self) -> WSGIApplication:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        moto_app = DomainDispatcherApplication(create_backend_app)
        aws = with_clock(
            wrap_wsgi(_serialized(moto_app, self.lock), self.sandbox.faults), self.time
        )
        return self.load_balancers.in_front_of(aws)  # faults are AWS's, not the apps'

    def _undo_install(self) -> None:
        uninstall_simulators()  # safe to call for what was never installed
        self._lambda_config.stop()


def build_demo_world(server: SandboxServer, **stack_options: Any) -> SandboxStack:
    """`build_stack(server.sandbox, **stack_options)`, its calls made to the server's
    endpoint with fake credentials (never the environment's), time paused meanwhile."""
    session = boto3.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=server.sandbox.region,
    )
    client = functools.partial(session.client, endpoint_url=server.endpoint_url)
    # build_stack creates its clients with boto3.client, as a user's infrastructure code
    # would: pointing that at the server keeps one stack builder for both modes.
    with server.time.paused(), mock.patch.object(boto3, "client", client):
        return build_stack(server.sandbox, **stack_options)


def shell_lines(server: SandboxServer) -> list[str]:
    """`export` lines that point a POSIX shell's `bluegreen` at the server."""
    return [
        "unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN",
        *(f"export {name}={value}" for name, value in server.client_env().items()),
    ]


@contextmanager
def stopped_by_signal(
    signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM),
) -> Iterator[threading.Event]:
    """Our own handlers for `signals` — Ctrl-C, `kill` — for the block: the event is set
    when one arrives. Installed before anything is announced, so a harness that stops the
    server as soon as it has read the exports cannot beat them (and a background `serve`,
    SIGINT ignored by the shell, stops cleanly too)."""
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    previous = {number: signal.signal(number, handler) for number in signals}
    try:
        yield stop
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def wait(stop: threading.Event) -> None:
    """Block the main thread until `stop` is set; a timeout so signal handlers run."""
    while not stop.wait(0.5):
        pass


# -- WSGI layers ---------------------------------------------------------------------------


def _serialized(app: WSGIApplication, lock: threading.RLock) -> WSGIApplication:
    """`app` answering one request at a time under `lock`, its whole body made inside."""

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with lock:
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                close: Callable[[], None] | None = getattr(result, "close", None)
                if close is not None:
                    close()

    return serve


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As http.server does: a restart may take a port whose old connections linger.
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(128)
    except BaseException:
        listening.close()
        raise
    return listening


class _Handler(WSGIRequestHandler):
    # HTTP/1.0: the connection closes after each answer (see the module docstring).
    protocol_version = "HTTP/1.0"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # a line per AWS call would drown the output of `bluegreen sandbox serve`


# -- moto, process-wide ------------------------------------------------------------------


def _refuse_in_process_mock() -> None:
    from moto.core.models import MockAWS

    # A private counter, but the only record moto keeps of an active mock.
    if getattr(MockAWS, "_nested_count", 0) > 0:
        raise RuntimeError(
            "moto's in-process mock (mock_aws / in_process) is active in this process: a "
            "SandboxServer cannot share moto's backends with it; stop it first"
        )


def _reset_moto() -> None:
    """Empty moto's process-global backends: a server starts on a world of its own."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def _no_docker_lambda() -> Any:
    from moto.core.config import default_user_config

    return mock.patch.dict(default_user_config, {"lambda": {"use_docker": False}})
