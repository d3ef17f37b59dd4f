#!/usr/bin/env python3
"""chat_notify.py: posts a one-line message about the deployment to a chat webhook.

What it does
    Reads the deployment context (JSON on stdin) and posts one line about it, e.g.

        bluegreen: web (prod) on_success: SUCCEEDED, web:41 → web:42 [deployment 3f2a…]

    naming the service and cluster, the hook event, the deployment's state, the task
    definitions it moves from and to, green's weight while traffic moves, and the reason
    when the deployment failed or rolled back. The message goes to an incoming-webhook URL
    (Slack, Microsoft Teams, Mattermost, Rocket.Chat, Discord's /slack endpoint…). A
    notification is never worth failing a deployment: unless --strict, any problem
    (no URL, the chat service down) is reported on stderr and the program exits 0.

What it needs
    CHAT_WEBHOOK_URL      the incoming-webhook URL (a secret: it is never printed); another
                          variable with --webhook-env NAME
    --format slack|teams|plain
                          slack (default): {"text": …} JSON, which Mattermost, Rocket.Chat
                          and Discord's /slack endpoint accept too; teams: a MessageCard
                          (Teams' incoming webhooks); plain: the line as text/plain
    --prefix TEXT         what the line starts with (default "bluegreen")
    --timeout SECONDS     the request's timeout (default 10)
    --strict              exit 1 when the message could not be delivered, 2 when the
                          webhook variable is not set
    Python 3.11 standard library only.

Exit codes
    0  posted, or (without --strict) not posted and said why on stderr
    1  --strict and the webhook did not take the message (no answer, or not 2xx)
    2  bad arguments, or --strict and the webhook variable is not set

Use it (one hook per event you want to hear about)
    [[hooks]]
    event = "finally"
    command = ["python3", "hooks/chat_notify.py", "--format", "slack"]
    timeout = "30s"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

# What colour a Teams card gets, by the deployment's state.
_COLOURS = {"SUCCEEDED": "2EB886", "ROLLED_BACK": "DAA038", "FAILED": "A30200"}


def read_context() -> dict[str, Any]:
    """The deployment context on stdin; {} when there is none (run by hand, from a tty)."""
    if sys.stdin is None or sys.stdin.isatty():
        return {}
    try:
        found = json.loads(sys.stdin.read() or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def short(task_definition: object) -> str:
    """family:revision of a task definition ARN (the ARN's tail), or the text as it is."""
    text = str(task_definition or "?")
    return text.rsplit("/", 1)[-1]


def message(context: dict[str, Any], prefix: str) -> str:
    """The one line about the deployment."""
    service = context.get("service") or "?"
    cluster = context.get("cluster")
    where = f"{service} ({cluster})" if cluster else str(service)
    line = f"{prefix}: {where} {context.get('event') or '?'}: {context.get('state') or '?'}"
    if context.get("from_task_definition") or context.get("to_task_definition"):
        line += (
            f", {short(context.get('from_task_definition'))}"
            f" → {short(context.get('to_task_definition'))}"
        )
    weight = context.get("green_weight")
    if isinstance(weight, int | float) and 0 < weight < 100:
        line += f", green at {weight:g}%"
    if context.get("reason"):
        line += f": {' '.join(str(context['reason']).split())}"
    if context.get("deployment_id"):
        line += f" [deployment {context['deployment_id']}]"
    return line


def payload(text: str, fmt: str, state: str) -> tuple[bytes, str]:
    """The request body and its content type for `fmt`."""
    if fmt == "plain":
        return text.encode(), "text/plain; charset=utf-8"
    if fmt == "teams":
        card = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": text[:80],
            "themeColor": _COLOURS.get(state, "0076D7"),
            "text": text,
        }
        return json.dumps(card).encode(), "application/json"
    return json.dumps({"text": text}).encode(), "application/json"


def post(url: str, body: bytes, content_type: str, timeout: float) -> str | None:
    """None when the webhook took the message, else why not (never naming the URL)."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "User-Agent": "bluegreen-chat-notify"},
    )
    try:
        with urllib.request.build_opener().open(request, timeout=timeout) as answer:
            answer.read(64 * 1024)
            return None
    except urllib.error.HTTPError as exc:
        with exc:
            return f"the webhook answered {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        return f"the webhook did not answer ({reason})"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Post a deployment message to a chat webhook.")
    parser.add_argument("--webhook-env", default="CHAT_WEBHOOK_URL", metavar="NAME")
    parser.add_argument("--format", choices=("slack", "teams", "plain"), default="slack")
    parser.add_argument("--prefix", default="bluegreen")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--strict", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    context = read_context()
    text = message(context, args.prefix)
    url = os.environ.get(args.webhook_env, "").strip()
    if not url.lower().startswith(("http://", "https://")):
        problem = "is not set" if not url else "is not an http(s) URL"
        print(f"chat_notify: not posted: ${args.webhook_env} {problem}", file=sys.stderr)
        return 2 if args.strict else 0
    body, content_type = payload(text, args.format, str(context.get("state") or ""))
    error = post(url, body, content_type, args.timeout)
    if error is not None:
        # The URL is the secret: an error naming it (urllib's rarely do) is not printed whole.
        print(f"chat_notify: not posted: {error.replace(url, '***')}", file=sys.stderr)
        return 1 if args.strict else 0
    print(f"chat_notify: posted: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
