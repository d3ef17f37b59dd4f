#!/usr/bin/env python3
"""github_deployment_status.py: reports the deployment to a GitHub deployment as a status.

What it does
    Creates a deployment status (POST /repos/{owner}/{repo}/deployments/{id}/statuses,
    GitHub's REST API) whose state follows the hook event it runs at:

        pre_provision … pre_cleanup, on_pause   → in_progress
        on_success                              → success
        on_rollback, on_failure                 → failure
        finally                                 → from the deployment's state (SUCCEEDED
                                                  → success, else failure)

    (--state overrides it). The description names the service, event, state and the task
    definition going out, plus the reason of a failure (GitHub keeps 140 characters).
    A status report is not worth failing a deployment for: unless --strict, a problem
    (missing settings, GitHub down or refusing) is reported on stderr and it exits 0.

What it needs
    GITHUB_TOKEN          a token allowed to write deployments (repo or deployments
                          scope; in Actions, `permissions: deployments: write`); never
                          printed
    GITHUB_REPOSITORY     owner/repo (set by GitHub Actions)
    GITHUB_DEPLOYMENT_ID  the deployment's id, or --deployment-id ID
    GITHUB_API_URL        the API's base URL (set by Actions; GitHub Enterprise Server:
                          https://HOST/api/v3); default https://api.github.com
    --state STATE         error, failure, inactive, in_progress, queued, pending or success
    --environment NAME    the environment's name to record (e.g. production)
    --environment-url URL, --log-url URL   links shown on the deployment
    --timeout SECONDS     the request's timeout (default 10)
    --strict              exit 1 when GitHub did not take the status, 2 when a setting
                          is missing
    The deployment context is read from stdin (JSON). Python 3.11 standard library only.

Exit codes
    0  the status was created, or (without --strict) it was not and stderr says why
    1  --strict and GitHub did not take it (no answer, or not 2xx)
    2  bad arguments, or --strict and a setting is missing

Use it
    [[hooks]]
    event = "pre_provision"
    command = ["python3", "hooks/github_deployment_status.py", "--environment", "production"]

    [[hooks]]
    event = "finally"
    command = ["python3", "hooks/github_deployment_status.py", "--environment", "production"]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from typing import Any

STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
DESCRIPTION_LIMIT = 140
_BY_EVENT = {"on_success": "success", "on_rollback": "failure", "on_failure": "failure"}


def read_context() -> dict[str, Any]:
    """The deployment context on stdin; {} when there is none (run by hand, from a tty)."""
    if sys.stdin is None or sys.stdin.isatty():
        return {}
    try:
        found = json.loads(sys.stdin.read() or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def state_for(context: dict[str, Any]) -> str:
    """GitHub's state for the hook event (see the header)."""
    event = str(context.get("event") or "")
    if event == "finally":
        return "success" if str(context.get("state")).upper() == "SUCCEEDED" else "failure"
    return _BY_EVENT.get(event, "in_progress")


def description(context: dict[str, Any]) -> str:
    """One line of at most DESCRIPTION_LIMIT characters about the deployment."""
    target = str(context.get("to_task_definition") or "").rsplit("/", 1)[-1]
    text = (
        f"{context.get('service') or '?'} {context.get('event') or '?'}: "
        f"{context.get('state') or '?'}" + (f" → {target}" if target else "")
    )
    if context.get("reason"):
        text += f": {' '.join(str(context['reason']).split())}"
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def settings(args: argparse.Namespace) -> tuple[str, str, str, str] | str:
    """(api_url, repository, deployment_id, token), or what is missing."""
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    repository = os.environ.get("GITHUB_REPOSITORY", "").strip()
    deployment = (args.deployment_id or os.environ.get("GITHUB_DEPLOYMENT_ID", "")).strip()
    api = (os.environ.get("GITHUB_API_URL") or "https://api.github.com").strip().rstrip("/")
    if not token:
        return "GITHUB_TOKEN is not set"
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        return f"GITHUB_REPOSITORY is {repository!r}, not owner/repo"
    if not deployment.isdigit():
        return "no deployment id: set GITHUB_DEPLOYMENT_ID or pass --deployment-id (a number)"
    if not api.lower().startswith(("http://", "https://")):
        return f"GITHUB_API_URL {api!r} is not an http(s) URL"
    return api, repository, deployment, token


def create_status(
    url: str, token: str, body: dict[str, str], timeout: float
) -> tuple[str | None, str]:
    """(None, the status's id) when GitHub created it, else (why not, "")."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "Content-Type": "application/json",
            "User-Agent": "bluegreen-github-deployment-status",
        },
    )
    try:
        with urllib.request.build_opener().open(request, timeout=timeout) as answer:
            created = json.loads(answer.read(1024 * 1024) or b"{}")
            return None, str(created.get("id", "")) if isinstance(created, dict) else ""
    except urllib.error.HTTPError as exc:
        with exc:
            text = exc.read(64 * 1024).decode("utf-8", "replace")
        try:
            said = json.loads(text).get("message", "")
        except (ValueError, AttributeError):
            said = " ".join(text.split())[:200]
        return f"GitHub answered {exc.code}: {said}".replace(token, "***"), ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        return f"GitHub did not answer ({reason})".replace(token, "***"), ""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Create a GitHub deployment status.")
    parser.add_argument("--deployment-id")
    parser.add_argument("--state", choices=STATES)
    parser.add_argument("--environment")
    parser.add_argument("--environment-url")
    parser.add_argument("--log-url")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--strict", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    context = read_context()
    found = settings(args)
    if isinstance(found, str):
        print(f"github_deployment_status: not reported: {found}", file=sys.stderr)
        return 2 if args.strict else 0
    api, repository, deployment, token = found
    state = args.state or state_for(context)
    body = {"state": state, "description": description(context)}
    optional = {
        "environment": args.environment,
        "environment_url": args.environment_url,
        "log_url": args.log_url,
    }
    body |= {key: value for key, value in optional.items() if value}
    url = f"{api}/repos/{repository}/deployments/{deployment}/statuses"
    error, status_id = create_status(url, token, body, args.timeout)
    if error is not None:
        print(f"github_deployment_status: not reported: {error}", file=sys.stderr)
        return 1 if args.strict else 0
    print(
        f"github_deployment_status: {repository} deployment {deployment} is {state}"
        + (f" (status {status_id})" if status_id else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
