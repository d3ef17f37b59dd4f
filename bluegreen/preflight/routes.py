"""The unconfigured-route check: no listener or rule sends to blue's or green's target
group unless the configuration names it, as a production route or the test route.

A deployment moves only the routes it is given. Any other route forwarding to blue's group
keeps sending there after the shift, and once blue is retired (its task set deleted, its
service scaled to 0) it sends production traffic to a target group with no target; one
forwarding to green's group gets the new release before anything judged it. So such a route
fails the check, whatever its weight: a forward naming a colour at weight 0 is one weight
change away from sending it traffic, and no deployment would keep it right.

Every listener and rule of every load balancer that could hold one is read: those of the
configured routes, and those blue's and green's target groups report being used by
(DescribeTargetGroups' LoadBalancerArns) — a target group can serve several load balancers.
"""

from __future__ import annotations

from collections.abc import Sequence

from bluegreen.model import LoadBalancer, Route, RouteKind, RouteRef, TargetGroup
from bluegreen.ports import Cloud
from bluegreen.preflight.report import Findings
from bluegreen.refusals import load_balancer_name, route_label, unconfigured_route

NAME = "unconfigured_routes"


def unconfigured_routes(
    f: Findings,
    cloud: Cloud,
    configured: Sequence[RouteRef],
    groups: dict[str, TargetGroup],
    lbs: Sequence[LoadBalancer],
) -> None:
    """`configured`: the production routes and the test route, as the configuration names
    them (found or not: one that failed to read has failed its own check)."""
    if not groups:
        f.skip(NAME, "neither blue's nor green's target group was found")
        return
    names = {g.arn: g.name for g in groups.values()}
    known = {(ref.kind, ref.arn) for ref in configured}
    lb_names = {lb.arn: lb.name for lb in lbs}
    arns = [lb.arn for lb in lbs] + [a for g in groups.values() for a in g.load_balancer_arns]
    read = 0
    found = 0
    for arn in dict.fromkeys(arns):
        routes = f.read(NAME, cloud.elb.listener_routes, arn)
        if routes is None:
            continue
        read += 1
        for route in routes:
            if (route.ref.kind, route.ref.arn) in known or not names.keys() & route.weights:
                continue
            found += 1
            where = _where(route, lb_names.get(arn) or load_balancer_name(arn))
            f.fail(NAME, *unconfigured_route(route, where, names))
    if read and not found:
        f.passed(
            NAME,
            f"no other listener or rule forwards to {' or '.join(names.values())} "
            f"({read} load balancer(s) read)",
        )


def _where(route: Route, lb: str) -> str:
    if route.ref.kind is RouteKind.RULE:
        return f"the listener rule {route_label(route, lb)}"
    return f"the default action of listener {route_label(route, lb)}"
