"""The forward action of a listener or rule: its weights read, checked against AWS's limits
and rewritten (pure: no AWS call, no boto3 type).

Rules:
- Changing weights rewrites the whole action list (ModifyListener/ModifyRule replace it):
  every action other than the forward one is carried over as read, and the forward action
  keeps its Order and stickiness.
- Weights are integers 0-999, at least one above 0, on at most five target groups: AWS
  rejects anything else and moto does not, so `check_weights` refuses it first.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from bluegreen.errors import PreflightError
from bluegreen.model import RouteRef

MAX_WEIGHT = 999
MAX_FORWARD_TARGET_GROUPS = 5


def check_weights(ref: RouteRef, weights: Mapping[str, int]) -> None:
    """Integers 0-999, at least one above 0, at most five target groups (AWS's limits)."""
    for arn, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, int):
            raise PreflightError(f"weight {weight!r} for {arn} on {ref} is not an integer")
        if not 0 <= weight <= MAX_WEIGHT:
            raise PreflightError(
                f"weight {weight} for {arn} on {ref} is outside 0-{MAX_WEIGHT}",
                hint="weights are relative integers, e.g. 90 and 10 for a 10 % canary",
            )
    if sum(weights.values()) <= 0:
        raise PreflightError(f"weights for {ref} must send traffic somewhere: {dict(weights)}")
    if len(weights) > MAX_FORWARD_TARGET_GROUPS:
        raise PreflightError(
            f"{ref} can forward to at most {MAX_FORWARD_TARGET_GROUPS} target groups"
        )


def forward_index(actions: Sequence[Mapping[str, Any]]) -> int | None:
    return next((i for i, a in enumerate(actions) if a.get("Type") == "forward"), None)


def forward_weights(action: Mapping[str, Any]) -> dict[str, int]:
    """Target group ARN → weight; a missing Weight means 1, a plain TargetGroupArn is 1."""
    groups = action.get("ForwardConfig", {}).get("TargetGroups") or []
    if groups:
        return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
    arn = action.get("TargetGroupArn")
    return {arn: 1} if arn else {}


def rewrite_actions(
    actions: Sequence[Mapping[str, Any]], weights: Mapping[str, int], *, swap: bool = False
) -> list[dict[str, Any]]:
    """The action list with the forward action's weights replaced, all else carried over.
    A `swap` route takes no weights: its forward names the one group holding them all."""
    index = forward_index(actions)
    if index is None:  # route() refuses such routes; kept as a guard for direct callers
        raise PreflightError("the route has no forward action to set weights on")
    forward = _single_forward if swap else _weighted_forward
    return [forward(a, weights) if i == index else _carried(a) for i, a in enumerate(actions)]


def _single_forward(old: Mapping[str, Any], weights: Mapping[str, int]) -> dict[str, Any]:
    live = [arn for arn, weight in weights.items() if weight > 0]
    if len(live) != 1:
        raise PreflightError(
            f'a route switched all at once (shift = "swap") cannot split traffic: {dict(weights)}'
        )
    action: dict[str, Any] = {"Type": "forward", "TargetGroupArn": live[0]}
    if "Order" in old:
        action["Order"] = old["Order"]
    return action


def _weighted_forward(old: Mapping[str, Any], weights: Mapping[str, int]) -> dict[str, Any]:
    stickiness = old.get("ForwardConfig", {}).get("TargetGroupStickinessConfig")
    # No top-level TargetGroupArn: AWS rejects it next to a ForwardConfig that differs.
    action: dict[str, Any] = {"Type": "forward"}
    if "Order" in old:
        action["Order"] = old["Order"]
    action["ForwardConfig"] = {
        "TargetGroups": [{"TargetGroupArn": a, "Weight": w} for a, w in weights.items()]
    }
    # Carried only when it was there: an NLB's TCP/TLS listener takes no stickiness setting.
    if stickiness:
        action["ForwardConfig"]["TargetGroupStickinessConfig"] = copy.deepcopy(stickiness)
    return action


def _carried(action: Mapping[str, Any]) -> dict[str, Any]:
    carried = copy.deepcopy(dict(action))
    oidc = carried.get("AuthenticateOidcConfig")
    # AWS never returns the OIDC client secret; writing the action back without one
    # requires UseExistingClientSecret, else AWS rejects the whole modification.
    if isinstance(oidc, dict) and "ClientSecret" not in oidc:
        oidc["UseExistingClientSecret"] = True
    return carried
