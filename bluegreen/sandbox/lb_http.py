"""The simulated load balancers answering HTTP, so smoke checks make real requests.

    bluegreen ── GET http://<lb DNS name>:<port>/health ──► HTTP_PROXY=http://127.0.0.1:P
    127.0.0.1:P (SandboxServer, or an in-process LoadBalancerProxy)
      └─ the load balancer with that DNS name → its listener on <port> → its rules
         → a target group by weight → a healthy target → the AppModel of its image

There is no DNS for the simulated load balancers' names, so the sandbox is reached the
way any HTTP client reaches a host it cannot connect to itself: as its HTTP proxy.
urllib (the product's client), curl and requests all honour HTTP_PROXY, so the product
asks for the load balancer's real DNS name and port and knows nothing of the sandbox;
`proxy_env` is the environment that points a process here (NO_PROXY keeps loopback —
the AWS endpoint, local hooks — direct).

Rules:
- Only requests for one of the sandbox's load balancers are answered; any other host is
  refused (502): the proxy never reaches the network. Plain HTTP only: a CONNECT (HTTPS
  through a proxy) is answered 501, saying to smoke-test through an HTTP test listener.
- A listener's rules are tried by priority — path-pattern, host-header and http-header
  conditions, matched as ALB does (wildcards * and ?; host and header values ignore case;
  a condition of another kind never matches) — then its default action. A forward picks
  a target group by weight, then one of its healthy targets; none healthy → 503, as an
  ALB answers. A fixed-response action answers as configured; any other action 501.
- The target answers as the AppModel of its image (world.py): `hangs` → no answer (held
  until the client gives up, at most HANG_SECONDS, then 504 as the load balancer's idle
  timeout would); an error with probability `error_rate` → 500; a path it does not serve
  → 404; else 200 with a body naming the path and the image (a body pattern can check the
  version). Choices are drawn from a generator seeded with the sandbox's seed.
- moto's backends are read under `lock` (SandboxServer's world lock); a hang waits
  outside it, so the world keeps moving.
"""

from __future__ import annotations

import fnmatch
import random
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from werkzeug.serving import BaseWSGIServer, make_server

from bluegreen.sandbox.elb_view import images_by_group, target_states
from bluegreen.sandbox.traffic import forward_weights
from bluegreen.sandbox.world import HEALTHY, Sandbox

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

HANG_SECONDS = 60.0
LOOPBACK = "127.0.0.1,localhost"
_REASONS = {
    200: "OK",
    404: "Not Found",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def proxy_env(proxy_url: str) -> dict[str, str]:
    """The environment that sends a process's plain-HTTP requests through the sandbox."""
    return {
        "HTTP_PROXY": proxy_url,
        "http_proxy": proxy_url,
        "NO_PROXY": LOOPBACK,
        "no_proxy": LOOPBACK,
    }


@dataclass(frozen=True)
class Reply:
    status: int
    body: str = ""
    hang: bool = False
    headers: tuple[tuple[str, str], ...] = ()


class LoadBalancerFront:
    """Answers a proxied request as the sandbox's load balancers would (module docstring)."""

    def __init__(self, sandbox: Sandbox, lock: threading.RLock | None = None) -> None:
        self.sandbox = sandbox
        self.lock = lock or threading.RLock()
        self.stopping = threading.Event()
        self._rng = random.Random(sandbox.seed)

    def reply(self, method: str, url: str, headers: Mapping[str, str]) -> Reply:
        parts = urlsplit(url)
        with self.lock:
            lb = self._load_balancer(parts.hostname or "")
            if lb is None:
                return Reply(502, f"{parts.hostname} is not a load balancer of the sandbox")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            listener = next((li for li in lb.listeners.values() if int(li.port) == port), None)
            if listener is None:
                return Reply(503, f"load balancer {lb.name} has no listener on port {port}")
            if listener.protocol not in ("HTTP", "TCP"):
                return Reply(501, _PLAIN_HTTP_ONLY)
            host = headers.get("Host", parts.netloc).rsplit(":", 1)[0]
            actions = _matching_actions(listener.rules.values(), parts.path or "/", host, headers)
            return self._act(actions, parts.path or "/", method)

    def _load_balancer(self, host: str) -> Any:
        wanted = host.lower().rstrip(".")
        return next(
            (lb for lb in self.sandbox.elbv2().load_balancers.values() if lb.dns_name == wanted),
            None,
        )

    def _act(self, actions: list[Any], path: str, method: str) -> Reply:
        for action in actions:
            data = getattr(action, "data", action)
            if data.get("Type") == "fixed-response":
                config = data.get("FixedResponseConfig") or {}
                return Reply(int(config.get("StatusCode", 503)), config.get("MessageBody", ""))
            if data.get("Type") == "forward":
                return self._forward(forward_weights([action]), path, method)
        kinds = ", ".join(str(getattr(a, "data", a).get("Type")) for a in actions)
        return Reply(501, f"the sandbox answers forward and fixed-response actions, not {kinds}")

    def _forward(self, weights: Mapping[str, int], path: str, method: str) -> Reply:
        groups = [arn for arn, weight in weights.items() if weight > 0]
        if not groups:
            return Reply(503, "no target group with weight")
        [group_arn] = self._rng.choices(groups, [weights[arn] for arn in groups])
        group = self.sandbox.elbv2().target_groups.get(group_arn)
        states = target_states(group, self.sandbox.ec2()) if group is not None else {}
        healthy = sorted(target for target, state in states.items() if state == "healthy")
        if not healthy:
            return Reply(503, "no healthy target")  # as an ALB answers
        record = self.sandbox.targets.get((group_arn, self._rng.choice(healthy)))
        image = record.image if record is not None and record.image else None
        image = image or next(iter(images_by_group(self.sandbox.ecs()).get(group_arn, [])), None)
        app = self.sandbox.app(image) if image else HEALTHY
        if app.hangs:
            return Reply(504, "the target did not answer", hang=True)
        if self._rng.random() < app.error_rate:
            return Reply(500, f"simulated error of {image or 'the app'}")
        status = app.answers(path)
        body = f"{path} served by {image or 'the app'}" if status == 200 else "not found"
        return Reply(status, "" if method == "HEAD" else body)

    # -- WSGI -----------------------------------------------------------------------------

    def in_front_of(self, app: WSGIApplication) -> WSGIApplication:
        """`app`, with requests for the load balancers answered here (proxied, absolute
        URLs naming one of them, and every CONNECT)."""

        def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            target = environ.get("REQUEST_URI", "")
            if environ["REQUEST_METHOD"] == "CONNECT":
                return self._send(Reply(501, _PLAIN_HTTP_ONLY), start_response)
            if not re.match(r"https?://", target, re.IGNORECASE):
                return app(environ, start_response)
            headers = {
                key[5:].replace("_", "-").title(): value
                for key, value in environ.items()
                if key.startswith("HTTP_")
            }
            reply = self.reply(environ["REQUEST_METHOD"], target, headers)
            return self._send(reply, start_response)

        return serve

    def _send(self, reply: Reply, start_response: StartResponse) -> list[bytes]:
        if reply.hang:
            self.stopping.wait(HANG_SECONDS)  # outside the lock: the world moves on
        data = reply.body.encode()
        status = f"{reply.status} {_REASONS.get(reply.status, 'Unknown')}"
        start_response(
            status,
            [("Content-Type", "text/plain"), ("Content-Length", str(len(data))), *reply.headers],
        )
        return [data]


_PLAIN_HTTP_ONLY = (
    "the sandbox's load balancers answer plain HTTP only: smoke-test through an HTTP test listener"
)


def _matching_actions(
    rules: Iterable[Any], path: str, host: str, headers: Mapping[str, str]
) -> list[Any]:
    """The actions of the first rule (by priority, the default last) whose conditions hold."""
    ordered = sorted(
        rules,
        key=lambda r: (r.priority == "default", 0 if r.priority == "default" else int(r.priority)),
    )
    for rule in ordered:
        if all(_holds(c, path, host, headers) for c in rule.conditions or []):
            return list(rule.actions)
    return []


def _holds(condition: Mapping[str, Any], path: str, host: str, headers: Mapping[str, str]) -> bool:
    field = condition.get("Field")
    if field == "path-pattern":
        values = (condition.get("PathPatternConfig") or {}).get("Values") or condition.get(
            "Values", []
        )
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in values)
    if field == "host-header":
        values = (condition.get("HostHeaderConfig") or {}).get("Values") or condition.get(
            "Values", []
        )
        return any(fnmatch.fnmatch(host.lower(), v.lower()) for v in values)
    if field == "http-header":
        config = condition.get("HttpHeaderConfig") or {}
        name = str(config.get("HttpHeaderName", "")).lower()
        sent = next((v for k, v in headers.items() if k.lower() == name), None)
        return sent is not None and any(
            fnmatch.fnmatch(sent.lower(), v.lower()) for v in config.get("Values", [])
        )
    return False


class LoadBalancerProxy:
    """The load balancers' front on its own server on loopback, for an in-process sandbox:
    `with LoadBalancerProxy(sandbox) as proxy:` then `proxy.env()` for the environment."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.front = LoadBalancerFront(sandbox)
        self.host, self.port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        return proxy_env(self.url)

    def __enter__(self) -> LoadBalancerProxy:
        refused = self.front.in_front_of(_refuse_direct)
        self._server = make_server(self.host, self.port, refused, threaded=True)
        self.port = self._server.port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="bluegreen-sandbox-load-balancers",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.front.stopping.set()  # first: hung requests end
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()


def _refuse_direct(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    data = b"this is the sandbox's HTTP proxy for its load balancers: send proxied requests"
    start_response("400 Bad Request", [("Content-Length", str(len(data)))])
    return [data]
