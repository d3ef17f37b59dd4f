#!/usr/bin/env python3
"""release.py: a release script on bluegreen's Python API.

What it does
    Deploys new images of one service with `bluegreen.Deployer` — the same deployment as
    `bluegreen deploy`, with its verify checks first — printing each event as it happens.
    Then it tells the outcomes apart by what the API returns or raises, prints what AWS
    looks like now (live colour, weights on every route, healthy targets), and exits with
    bluegreen's own exit codes, so a pipeline can act on them:

        0  succeeded, or stopped at a manual pause (--detach-at-pause): `bluegreen promote`
        1  the deployment failed and was rolled back: blue serves production
        2  a configuration or usage error, or a preflight check failed: nothing changed
        3  the rollback could not complete: a person must act (the status says where)
        4  another deployment of this service holds the lock, or is in flight

    Use it as a starting point for your own: run migrations before, notify after, deploy
    several services in a row (each with its own bluegreen.toml)...

What it needs
    --config PATH            bluegreen.toml (default: bluegreen.toml)
    --image CONTAINER=URI    the new image of a container (repeatable; at least one)
    --detach-at-pause        return at a manual pause instead of waiting for a promote
    --endpoint-url URL       another AWS endpoint, e.g. the simulated AWS of
                             `bluegreen sandbox serve` (its exports set AWS_ENDPOINT_URL)
    --region, --profile      AWS settings (default: the environment's)
    The AWS credentials come from the environment, as for any boto3 program. When
    BLUEGREEN_SANDBOX_CLOCK is set (`bluegreen sandbox serve` exports it), the script
    waits on the sandbox's virtual time, as `bluegreen` itself does.

Use it
    python3 examples/release.py --config bluegreen.toml \
        --image web=123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import bluegreen
from bluegreen import errors


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Deploy new images with bluegreen.")
    parser.add_argument("--config", default="bluegreen.toml", help="bluegreen.toml")
    parser.add_argument(
        "--image",
        action="append",
        required=True,
        metavar="CONTAINER=URI",
        help="the new image of a container (repeatable)",
    )
    parser.add_argument("--detach-at-pause", action="store_true")
    parser.add_argument("--endpoint-url", help="another AWS endpoint (e.g. the sandbox's)")
    parser.add_argument("--region")
    parser.add_argument("--profile")
    return parser.parse_args(argv)


def images_of(pairs: list[str]) -> dict[str, str]:
    images = {}
    for pair in pairs:
        container, _, uri = pair.partition("=")
        if not container or not uri:
            raise errors.UsageError(f"--image {pair!r}: expected CONTAINER=URI, e.g. web=repo:1.2")
        images[container] = uri
    return images


def clock() -> dict[str, Any]:
    """The sandbox server's virtual clock when it is asked for, else real time."""
    url = os.environ.get("BLUEGREEN_SANDBOX_CLOCK")
    if not url:
        return {}
    from bluegreen.sandbox import RemoteClock  # standard library only: no moto imported

    return {"clock": RemoteClock(url)}


def print_event(event: Any) -> None:
    print(f"  {event.state.value:<15} {event.message}", flush=True)


def print_status(deployer: bluegreen.Deployer) -> None:
    """What AWS looks like now: a person reading the pipeline's log sees where it stands."""
    try:
        status = deployer.status().to_dict()
    except errors.BluegreenError as exc:
        print(f"status: could not be read ({exc.message})")
        return
    print(f"status: {status['service']}, live: {status['live_target_group'] or 'split'}")
    for route in status["routes"]:
        weights = ", ".join(f"{name} {weight}" for name, weight in route["weights"].items())
        print(f"  {route['route']}: {weights}")
    for group in status["target_groups"]:
        print(f"  {group['name']}: {group['healthy']} healthy, {group['unhealthy']} unhealthy")
    for warning in status["warnings"]:
        print(f"  warning: {warning}")


def deploy(deployer: bluegreen.Deployer, images: dict[str, str], detach_at_pause: bool) -> int:
    """The deployment, its outcome told apart; returns bluegreen's exit code."""
    try:
        result = deployer.deploy(
            images=images, on_event=print_event, detach_at_pause=detach_at_pause
        )
    except errors.DeploymentFailed as failure:  # rolled back (health, gates, hooks…)
        print(f"ROLLED BACK: blue serves production. {failure}")
        return failure.exit_code
    except errors.RollbackFailed as failure:
        print(f"A PERSON MUST ACT: the rollback could not complete. {failure}")
        return failure.exit_code
    except errors.LockHeldError as locked:
        print(f"LOCKED: {locked}")
        return locked.exit_code
    if result.outcome == "paused":
        print(f"PAUSED: {result.deployment_id}; continue with `bluegreen promote`")
    else:
        print(f"{result.outcome.upper()}: {result.deployment_id}")
    return result.exit_code


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        images = images_of(args.image)
        deployer = bluegreen.Deployer.from_config(
            args.config,
            endpoint_url=args.endpoint_url,
            region=args.region,
            profile=args.profile,
            **clock(),
        )
        code = deploy(deployer, images, args.detach_at_pause)
    except errors.BluegreenError as error:  # configuration, preflight: nothing changed
        print(f"ERROR: {error}", file=sys.stderr)
        return error.exit_code
    print_status(deployer)
    return code


if __name__ == "__main__":
    sys.exit(main())
