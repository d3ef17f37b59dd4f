"""The configuration model: `bluegreen.toml` parsed, validated and defaulted in one place.

Rules: unknown keys are errors at every level; durations are strings such as "90s", "5m",
"1h30m" (or a number of seconds), finite and at most MAX_DURATION_SECONDS; names follow
AWS's own rules (both in bluegreen.config.fields); every error names the file, the key and
what is allowed, and is raised as ConfigError (exit 2) before any AWS call — a file that
cannot be read or parsed (missing, a directory, not UTF-8, nested too deeply) included.
CLI flags arrive as `overrides`, a nested dict merged over the file before validation, so
they are validated exactly like the file.

The models are in `schema.py` (the `[analysis]` table's in `analysis.py`, its smoke
checks' in `smoke.py`), their value types in `fields.py`, reading and validating a file in
`loading.py`, the JSON Schema an editor checks the file with in `json_schema.py` (each
key's description in `key_docs.py`); all of it is re-exported here, so `from
bluegreen.config import X` is the one import path outside this package. `reference.py`
is a script (`python -m bluegreen.config.reference`) that writes docs/configuration.md
from the JSON Schema.
"""

from bluegreen.config.analysis import AnalysisConfig, MetricCheckConfig
from bluegreen.config.fields import parse_duration, parse_percent
from bluegreen.config.json_schema import config_json_schema
from bluegreen.config.loading import MAX_NESTING, load_config, merge_overrides, parse_config
from bluegreen.config.metric_query import MetricQueryConfig
from bluegreen.config.schema import (
    MAX_SERVICE_KEY_LENGTH,
    AutoScalingConfig,
    DeploymentConfig,
    GatesConfig,
    HealthConfig,
    HookConfig,
    RouteConfig,
    ServiceConfig,
    StateConfig,
    StepConfig,
    StrategyConfig,
    StrategyType,
    TargetGroupsConfig,
    route_ref,
    route_refs,
)
from bluegreen.config.smoke import HttpCheckConfig, describe_http_check

__all__ = [
    "MAX_NESTING",
    "MAX_SERVICE_KEY_LENGTH",
    "AnalysisConfig",
    "AutoScalingConfig",
    "DeploymentConfig",
    "GatesConfig",
    "HealthConfig",
    "HookConfig",
    "HttpCheckConfig",
    "MetricCheckConfig",
    "MetricQueryConfig",
    "RouteConfig",
    "ServiceConfig",
    "StateConfig",
    "StepConfig",
    "StrategyConfig",
    "StrategyType",
    "TargetGroupsConfig",
    "config_json_schema",
    "describe_http_check",
    "load_config",
    "merge_overrides",
    "parse_config",
    "parse_duration",
    "parse_percent",
    "route_ref",
    "route_refs",
]
