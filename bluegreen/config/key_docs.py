"""What each key of `bluegreen.toml` means, in one or two sentences: the descriptions of the
JSON Schema (`bluegreen schema`) and of docs/configuration.md.

Rules: keyed by model class name, then by the key as written in the file (the alias:
`lambda`, not `lambda_function`); a key without an entry here fails
tests/unit/test_config_schema.py, so a new key is documented when it is added. A model's
own `Field(description=…)` wins over the entry here.
"""

from __future__ import annotations

KEY_DOCS: dict[str, dict[str, str]] = {
    "DeploymentConfig": {
        "service": "The ECS service (or pair of services) being deployed.",
        "target_groups": "The two target groups the colours take turns on.",
        "listeners": "The production routes: every one moves together, step by step.",
        "test_listener": "A route that sends only to green, before production moves "
        "(smoke checks with a `path` go through it).",
        "strategy": "How production traffic moves from blue to green.",
        "health": "How long green may take to become healthy.",
        "gates": "CloudWatch alarms watched while traffic moves, and the bakes.",
        "hooks": "Commands, Python callables, Lambdas or URLs run at named moments.",
        "analysis": "Metric checks judging green while it bakes, and smoke checks.",
        "state": "Where deployment records and the per-service lock are kept.",
        "autoscaling": "What of the services' Application Auto Scaling is suspended while "
        "a deployment runs (restored as it was found at the end).",
        "timeout": "The whole deployment's limit; past it, the deployment rolls back.",
        "on_interrupt": "On SIGINT/SIGTERM, after the AWS call in progress: roll back, or "
        "leave the deployment resumable (`bluegreen resume`).",
    },
    "ServiceConfig": {
        "cluster": "The ECS cluster: its name or ARN.",
        "name": 'The service (mode "task-sets": an EXTERNAL deployment controller).',
        "mode": '"task-sets": one service, a task set per colour; "service-pair": two '
        "services, one per colour.",
        "blue_service": 'Mode "service-pair": the service that is blue now.',
        "green_service": 'Mode "service-pair": the service that becomes green.',
        "container": "The container the load balancer sends to (default: the only one "
        "with a port mapping).",
        "container_port": "That container's port (default: its only port mapping).",
    },
    "TargetGroupsConfig": {
        "blue": "Blue's target group: its name or ARN.",
        "green": "Green's target group: its name or ARN; must differ from blue.",
    },
    "RouteConfig": {
        "arn": "A listener, by ARN: its default action is moved.",
        "rule": "A listener rule, by ARN: its forward action is moved.",
        "shift": '"weighted": weights move step by step; "swap": the route takes no '
        "weights (e.g. a Network Load Balancer listener) and is switched at once, every "
        "other route with it.",
    },
    "StrategyConfig": {
        "type": "all-at-once | canary (percent, then bake, then all) | linear (step_percent "
        "every interval) | steps (your own list).",
        "percent": "canary: green's share of the first step.",
        "bake": "canary: how long the first step is watched before all traffic moves.",
        "step_percent": "linear: the share added at each step.",
        "interval": "linear: the time between two steps.",
        "steps": "steps: the weights in order, ending at 100.",
        "pause_timeout": "How long a paused deployment waits for `bluegreen promote`.",
        "on_pause_timeout": "What a pause does when it times out.",
    },
    "StepConfig": {
        "weight": "Percent of traffic on green.",
        "bake": "How long this step is watched before the next.",
        "pause": "Wait for `bluegreen promote` after this step.",
    },
    "HealthConfig": {
        "timeout": "How long green's targets may take to become healthy before rollback.",
        "poll_interval": "The time between two looks at target health.",
    },
    "GatesConfig": {
        "alarms": "CloudWatch alarm names: one in ALARM rolls the deployment back.",
        "bake_after_shift": "How long green at 100 % is watched before blue is retired.",
        "termination_wait": "How long blue's tasks stay up after the last shift "
        "(in-flight requests drain).",
    },
    "HookConfig": {
        "event": "When the hook runs.",
        "name": "How plans, logs and records show the hook.",
        "command": 'A program and its arguments, e.g. ["./smoke.sh", "--fast"].',
        "python": 'A Python callable, "module:function".',
        "lambda": "A Lambda function: its name or ARN (optionally with a qualifier).",
        "url": "An http(s) URL that receives a signed POST of the deployment.",
        "shell": "Run `command` (one string) through the shell.",
        "timeout": "How long the hook may run; past it, it fails.",
        "env": "Extra environment variables; secret-named values are masked in logs.",
        "headers": "url hooks: extra request headers (their values are treated as secrets).",
        "secret_env": "url hooks: the environment variable holding the HMAC signing secret.",
        "retries": "url hooks: more tries of a failed delivery.",
    },
    "StateConfig": {
        "backend": '"file" (a directory beside the configuration) or "s3://bucket/prefix".',
        "lease": "How long a lock outlives a process that stopped renewing it (S3).",
    },
    "AutoScalingConfig": {
        "hold": '"scale-in" (default): dynamic scale-in and scheduled scaling are suspended, '
        'scale-out still follows load; "scale-in-and-out": dynamic scale-out too; "none": '
        "nothing is suspended. What was already suspended stays so.",
    },
    "AnalysisConfig": {
        "interval": "The time between two evaluations: whole minutes, 1m to 1h.",
        "delay": "How late a minute's metrics are complete (at most 15m).",
        "lookback": (
            'The latest traffic each evaluation judges: whole minutes, or "all". At 100 % '
            "green, blue is judged on as much of its traffic before the final shift."
        ),
        "failure_limit": "Consecutive failed evaluations that roll back.",
        "on_inconclusive": "What an inconclusive verdict at the end of a bake does.",
        "inconclusive_limit": "extend: extensions of one interval before pausing.",
        "metrics": "Metric checks, judged while green bakes.",
        "http": "Smoke checks: HTTP requests to green before production moves.",
    },
    "MetricCheckConfig": {
        "name": "A built-in (error_rate, latency, request_count) or a label of your own.",
        "builtin": "Which built-in this check is, when its name is another.",
        "statistic": 'latency only: "pNN", "pNN.N" or "average" (default p99).',
        "query": "A custom metric: one CloudWatch metric.",
        "expression": "A custom metric: CloudWatch metric math over `queries`.",
        "queries": "The inputs of `expression`, each with an id.",
        "max": 'Upper bound on green (error_rate: a rate or "1%"; latency: "500ms").',
        "min": "Lower bound on green (same units as max).",
        "compare": '"blue": judge green against blue (implied by max_increase/decrease).',
        "max_increase": 'Tolerated increase of green over blue, e.g. "25%".',
        "max_decrease": 'Tolerated decrease of green under blue, e.g. "25%" (at most 100%).',
        "confidence": "How sure a comparison must be before it fails green.",
        "min_requests": "error_rate compared with blue: requests needed per colour.",
        "min_samples": "Per-minute metrics compared with blue: minutes needed per colour.",
    },
    "MetricQueryConfig": {
        "id": "The query's name in an expression (starts lower case).",
        "namespace": 'The metric\'s namespace, e.g. "MyApp".',
        "metric": "The metric's name.",
        "dimensions": "Dimension names and values; {target_group} {load_balancer} "
        "{service} {task_set} {cluster} {colour} stand for one colour's resources.",
        "statistic": 'e.g. "Sum", "Average", "p99".',
    },
    "HttpCheckConfig": {
        "name": 'How verdicts name the check (default "GET /health").',
        "path": "Requested through the test listener.",
        "url": "Requested instead of `path`, e.g. green's own address.",
        "method": "A safe method: checks are repeated and retried.",
        "headers": "Request headers; their values are secrets, never logged or recorded.",
        "expect_status": 'The status that passes: 200, [200, 204], "2xx" or ["2xx", 301].',
        "expect_body": "A regular expression searched for in the body.",
        "count": "Requests made; every one must pass.",
        "every": "The pause between two requests.",
        "timeout": "Per request.",
        "retries": "More tries of a request that did not pass.",
    },
}
