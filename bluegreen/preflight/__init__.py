"""Preflight: every resource the configuration names exists, and they fit together.

`run_checks(config, cloud, now)` reads AWS — never a mutating call — and returns a `Report` of
named checks, each pass / warn / fail / skip, every failure and warning with its fix.
`bluegreen verify` prints it and exits 0 when nothing failed (warnings allowed), 2
otherwise; `deploy` runs the same checks first and stops on `Report.raise_for_failures()`.

Rules:
- Every check runs, whatever failed before it: a read that fails fails its own check, and a
  check that needs what it would have read is skipped, saying what was missing. Except when
  AWS cannot be asked at all (no credentials or region, the endpoint unreachable) or kept
  throttling or failing through every retry: that error is raised once, as it is — it is
  not a finding about the configuration (`deploy` then stops, exit 1; nothing changed).
- Blue is read from the listeners (the target group they send all traffic to), as `deploy`
  does; the container checks look at the task set or service attached to it.

The checks, in order (several rows may share a name: one per listener, target group…):

    service, target_group, listener,      every resource exists (wiring.py)
    test_listener, alarms, load_balancer
    load_balancer_type                    no Gateway LB, no Classic LB binding
    deployment_controller                 EXTERNAL for task-sets, ECS for service-pair
    live_colour                           the production listeners agree on blue
    listener_actions                      forward only to blue/green; stickiness warned
    unconfigured_routes                   no listener or rule the configuration does not
                                          name forwards to blue or green (routes.py)
    target_group_vpc                      target groups in the load balancer's VPC
    blue_tasks, task_definition           what serves blue (tasks.py)
    container, container_port             in blue's task definition
    target_type                           ip for awsvpc tasks, instance otherwise
    security_groups                       the tasks admit the load balancer on the port
    health_check                          path, matcher, port (settings.py)
    target_group_attributes, stickiness,  warnings: stickiness on, 300 s deregistration
    deregistration_delay
    stray_targets                         warning: a target that is none of the tasks
                                          attached to its group (strays.py)
    analysis                              blue has data for every metric check, and
                                          GetMetricData is allowed (analysis.py)
    autoscaling                           the services' scalable targets can be read, and
                                          what a deployment will hold (autoscaling.py)
"""

from __future__ import annotations

from bluegreen.config import DeploymentConfig, route_ref, route_refs
from bluegreen.ports import Cloud
from bluegreen.preflight import analysis as metric_checks
from bluegreen.preflight import autoscaling as scaling
from bluegreen.preflight import routes as other_routes
from bluegreen.preflight import settings, strays, tasks, wiring
from bluegreen.preflight.report import Check, Findings, Report, Result

__all__ = ["Check", "Report", "Result", "run_checks"]


def run_checks(
    config: DeploymentConfig, cloud: Cloud, now: float, *, analysis: bool = True
) -> Report:
    """Every preflight check against AWS as it is `now`. Reads only. `analysis` False:
    the metric analysis is switched off (`--skip-analysis`), so its check is not made."""
    f = Findings()
    services = wiring.services(f, config, cloud)
    groups = wiring.target_groups(f, config, cloud)
    routes, test_route = wiring.routes(f, config, cloud)
    all_routes = [*routes, *filter(None, [test_route])]
    wiring.alarms(f, config, cloud)
    lbs = wiring.load_balancers(f, cloud, all_routes)
    wiring.load_balancer_types(f, lbs, services)
    drivable = wiring.controllers(f, config.service.mode, services)
    live = wiring.live_colour(f, routes, groups)
    wiring.listener_actions(f, all_routes, groups)
    configured = [
        *route_refs(config),
        *[route_ref(t) for t in filter(None, [config.test_listener])],
    ]
    other_routes.unconfigured_routes(f, cloud, configured, groups, lbs)
    wiring.target_group_vpc(f, lbs, groups)
    units = tasks.blue_tasks(f, config.service.mode, services if drivable else {}, live)
    tds = tasks.task_definitions(f, cloud, units)
    port = tasks.container(f, config, services, tds)
    mode = tasks.network_mode(tds, units)
    tasks.target_types(f, groups, mode)
    tasks.security_groups(f, cloud, lbs, units, mode, port)
    settings.health_checks(f, groups, port)
    settings.attributes(f, cloud, groups)
    strays.stray_targets(
        f, cloud, config.service.cluster, config.service.mode, services if drivable else {}, groups
    )
    if analysis:
        metric_checks.metrics(f, config, cloud, now, lbs, live, services)
    scaling.scalable_targets(f, config, cloud)
    return f.report()
