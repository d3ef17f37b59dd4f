"""The configuration model: `bluegreen.toml` parsed, validated and defaulted in one place.

Rules: unknown keys are errors at every level; durations are strings such as "90s", "5m",
"1h30m" (or a number of seconds), finite and at most MAX_DURATION_SECONDS; names follow
AWS's own rules (both in bluegreen.config.fields); every error names the file, the key and
what is allowed, and is raised as ConfigError (exit 2) before any AWS call — a file that
cannot be read or parsed (missing, a directory, not UTF-8, nested too deeply) included.
CLI flags arrive as `overrides`, a nested dict merged over the file before validation, so
they are validated exactly like the file.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from bluegreen.config.fields import (
    AlarmName,
    Arn,
    Command,
    ContainerName,
    Duration,
    EcsName,
    Environment,
    LambdaFunction,
    PythonTarget,
    TargetGroupName,
    parse_duration,
)
from bluegreen.errors import ConfigError
from bluegreen.machine import HookEvent
from bluegreen.model import RouteKind, RouteRef
from bluegreen.redact import Redactor, is_sensitive_key

__all__ = ["DeploymentConfig", "load_config", "merge_overrides", "parse_config", "parse_duration"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ServiceConfig(_Strict):
    cluster: EcsName
    name: EcsName | None = None
    mode: Literal["task-sets", "service-pair"] = "task-sets"
    blue_service: EcsName | None = None
    green_service: EcsName | None = None
    container: ContainerName | None = None
    container_port: int | None = Field(default=None, ge=1, le=65535)

    @model_validator(mode="after")
    def _mode_needs(self) -> ServiceConfig:
        if self.mode == "task-sets" and not self.name:
            raise ValueError('mode "task-sets" needs service.name (the EXTERNAL service)')
        if self.mode == "service-pair" and not (self.blue_service and self.green_service):
            raise ValueError('mode "service-pair" needs service.blue_service and green_service')
        return self


class TargetGroupsConfig(_Strict):
    blue: TargetGroupName
    green: TargetGroupName

    @model_validator(mode="after")
    def _distinct(self) -> TargetGroupsConfig:
        if self.blue == self.green:
            raise ValueError("target_groups.blue and target_groups.green must differ")
        return self


class RouteConfig(_Strict):
    """A listener's default action (`arn`) or one listener rule (`rule`)."""

    arn: Arn | None = None
    rule: Arn | None = None
    # "swap": the route takes no target-group weights (a Network LB listener where AWS
    # refuses them): it is switched all at once, and so is every other route with it.
    shift: Literal["weighted", "swap"] = "weighted"

    @model_validator(mode="after")
    def _exactly_one(self) -> RouteConfig:
        if bool(self.arn) == bool(self.rule):
            raise ValueError('give exactly one of "arn" (a listener) or "rule" (a listener rule)')
        return self


class StepConfig(_Strict):
    weight: int = Field(ge=0, le=100, description="percent of traffic on green")
    bake: Duration = 0.0
    pause: bool = False


StrategyType = Literal["all-at-once", "canary", "linear", "steps"]
_STRATEGY_KEYS: dict[str, set[str]] = {
    "all-at-once": set(),
    "canary": {"percent", "bake"},
    "linear": {"step_percent", "interval"},
    "steps": {"steps"},
}


class StrategyConfig(_Strict):
    type: StrategyType = "canary"
    percent: int = Field(default=10, ge=1, le=99)
    bake: Duration = 300.0
    step_percent: int = Field(default=20, ge=1, le=99)
    interval: Duration = 120.0
    steps: list[StepConfig] = Field(default_factory=list)
    pause_timeout: Duration = 86400.0
    on_pause_timeout: Literal["rollback", "continue"] = "rollback"

    @model_validator(mode="before")
    @classmethod
    def _only_keys_of_type(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            kind = data.get("type", "canary")
            other = set().union(*_STRATEGY_KEYS.values()) - _STRATEGY_KEYS.get(kind, set())
            stray = sorted(k for k in data if k in other)
            if kind in _STRATEGY_KEYS and stray:
                raise ValueError(f'{", ".join(stray)} not used by type = "{kind}"')
        return data

    @model_validator(mode="after")
    def _steps_end_at_100(self) -> StrategyConfig:
        if self.type != "steps":
            return self
        if not self.steps:
            raise ValueError('type = "steps" needs a steps list ending at weight 100')
        weights = [s.weight for s in self.steps]
        if weights[-1] != 100:
            raise ValueError(f"steps must end at weight 100 (the last is {weights[-1]})")
        if any(b < a for a, b in itertools.pairwise(weights)):
            raise ValueError(f"steps weights must not decrease (got {weights})")
        return self


class HealthConfig(_Strict):
    timeout: Duration = 900.0
    poll_interval: Duration = Field(default=5.0)

    @model_validator(mode="after")
    def _positive_poll(self) -> HealthConfig:
        if self.poll_interval <= 0:
            raise ValueError("health.poll_interval must be more than 0s")
        return self


class GatesConfig(_Strict):
    alarms: list[AlarmName] = Field(default_factory=list)
    bake_after_shift: Duration = 300.0
    termination_wait: Duration = 300.0


class HookConfig(_Strict):
    event: HookEvent
    name: str | None = None
    command: Command | None = None
    python: PythonTarget | None = None
    lambda_function: LambdaFunction | None = Field(default=None, alias="lambda")
    shell: bool = False
    timeout: Duration = Field(default=300.0, gt=0)
    env: Environment = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> HookConfig:
        kinds = [k for k in (self.command, self.python, self.lambda_function) if k is not None]
        if len(kinds) != 1:
            raise ValueError('give exactly one of "command", "python" or "lambda"')
        if self.shell and self.command and len(self.command) != 1:
            raise ValueError('with shell = true, command is one string: ["cmd | other"]')
        return self

    @property
    def display_name(self) -> str:
        """How the hook is shown (plan, logs, records): its command line with secrets masked,
        the values of its secret-named `env` entries included."""
        if self.name:
            shown = self.name
        elif self.command:
            shown = " ".join(self.command)
        else:
            shown = self.python or self.lambda_function or "hook"
        return self.redactor.redact(shown)

    @property
    def redactor(self) -> Redactor:
        return Redactor(value for key, value in self.env.items() if is_sensitive_key(key))


class StateConfig(_Strict):
    backend: str = "file"
    # How long a lock outlives a process that stopped renewing it (killed, machine gone)
    # before another process may take it over (S3 backend; the file backend checks the pid).
    lease: Duration = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _known_backend(self) -> StateConfig:
        if self.backend != "file" and not self.backend.startswith("s3://"):
            raise ValueError('state.backend is "file" or "s3://bucket/prefix"')
        return self


class DeploymentConfig(_Strict):
    service: ServiceConfig
    target_groups: TargetGroupsConfig
    listeners: list[RouteConfig] = Field(min_length=1)
    test_listener: RouteConfig | None = None
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    gates: GatesConfig = Field(default_factory=GatesConfig)
    hooks: list[HookConfig] = Field(default_factory=list)
    state: StateConfig = Field(default_factory=StateConfig)
    timeout: Duration | None = None  # the whole deployment; past it → rollback
    # On SIGINT/SIGTERM, after the AWS call in progress: roll back, or leave it resumable.
    on_interrupt: Literal["rollback", "leave"] = "rollback"
    source: Path = Field(default=Path("bluegreen.toml"), exclude=True)

    @property
    def base_dir(self) -> Path:
        return self.source.parent

    @property
    def service_label(self) -> str:
        """The service as people name it: "web", or "web-blue+web-green" for a pair."""
        return self.service.name or f"{self.service.blue_service}+{self.service.green_service}"

    @property
    def redactor(self) -> Redactor:
        """Masks what the logs mask, and the values of every hook's secret-named `env`."""
        return Redactor(v for hook in self.hooks for v in hook.redactor.secret_values)

    @property
    def service_key(self) -> str:
        """Names this service in records and locks: one lock per service. It is one file
        name (the file store's directory): a key longer than a file name may be (two long
        ARNs) keeps its start and ends with a digest of the whole, so it stays unique."""
        key = f"{self.service.cluster}/{self.service_label}".replace(":", "_").replace("/", "__")
        if len(key) <= MAX_SERVICE_KEY_LENGTH:
            return key
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return f"{key[: MAX_SERVICE_KEY_LENGTH - len(digest) - 1]}-{digest}"


# NAME_MAX of common file systems; keys up to it are kept as they always were.
MAX_SERVICE_KEY_LENGTH = 255
# No valid configuration nests deeper than 4 (hooks → env → value); far deeper input is
# hostile, and would exhaust the recursion limit of what reads it.
MAX_NESTING = 16


def load_config(
    path: str | Path = "bluegreen.toml", overrides: Mapping[str, Any] | None = None
) -> DeploymentConfig:
    path = Path(path)
    return parse_config(_read_toml(path), source=path, overrides=overrides)


def _read_toml(path: Path) -> dict[str, Any]:
    """The file as TOML; every way it can fail to be read or parsed is a ConfigError."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file", hint="pass --config PATH, or run `bluegreen init`"
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: is a directory, not a file", hint="pass --config PATH/bluegreen.toml"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}): TOML files are UTF-8",
            hint="save the file as UTF-8",
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(
            f"{path}: nested too deeply to be read (arrays or tables inside each other)",
            hint=f"a bluegreen.toml nests at most {MAX_NESTING} levels",
        ) from None


def parse_config(
    data: Mapping[str, Any],
    *,
    source: Path = Path("bluegreen.toml"),
    overrides: Mapping[str, Any] | None = None,
) -> DeploymentConfig:
    for given in (data, overrides or {}):
        _refuse_deep_nesting(source, given)
    merged = merge_overrides(data, overrides or {})
    if "source" in merged:  # the model's own field for the file's path, never a key
        raise ConfigError(f"{source}: source: unknown key{_allowed_keys(('source',))}")
    try:
        return DeploymentConfig.model_validate({**merged, "source": source})
    except ValidationError as exc:
        raise ConfigError(_describe(source, exc, merged)) from None


def _refuse_deep_nesting(source: Path, data: Mapping[str, Any]) -> None:
    """Refuse, naming the key, data nested deeper than MAX_NESTING, before anything
    recursive (copy, validation) walks it. Walked without recursion."""
    pending: list[tuple[tuple[str, ...], Any]] = [((), data)]
    while pending:
        location, value = pending.pop()
        if len(location) > MAX_NESTING:
            key = ".".join(location[:MAX_NESTING])
            raise ConfigError(
                f"{source}: {key}: nested more than {MAX_NESTING} levels deep",
                hint="no bluegreen.toml key takes arrays or tables nested this deep",
            )
        if isinstance(value, Mapping):
            pending.extend(((*location, str(k)), v) for k, v in value.items())
        elif isinstance(value, list | tuple):
            pending.extend(((*location, str(i)), v) for i, v in enumerate(value))


def merge_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`overrides` over `data`, table by table; a strategy of another type drops the keys
    only the old type had. Neither input is changed."""
    return _merge(copy.deepcopy(_without_other_strategy_keys(data, overrides)), overrides)


def _without_other_strategy_keys(
    data: Mapping[str, Any], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """`--strategy linear` over a file with a canary: the canary's keys no longer apply."""
    kind = (overrides.get("strategy") or {}).get("type")
    strategy = data.get("strategy")
    if not kind or not isinstance(strategy, Mapping) or strategy.get("type") == kind:
        return dict(data)
    keep = {
        k: v
        for k, v in strategy.items()
        if k in _STRATEGY_KEYS.get(kind, set()) or k not in set().union(*_STRATEGY_KEYS.values())
    }
    return {**data, "strategy": keep}


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            base[key] = _merge(dict(base[key]), value)
        else:
            base[key] = value
    return base


def _describe(source: Path, exc: ValidationError, data: Mapping[str, Any]) -> str:
    lines = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key{_allowed_keys(error['loc'])}"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif "input" in error and not isinstance(error["input"], dict | list):
            message += f" (got {_shown(error['input'])})"
        lines.append(f"{source}: {location}: {message}" if location else f"{source}: {message}")
    return "\n".join(lines)


def _shown(value: object, limit: int = 80) -> str:
    """The offending value, shortened: a hostile 10 kB name need not be printed whole."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def _allowed_keys(loc: tuple[int | str, ...]) -> str:
    model: type[BaseModel] | None = DeploymentConfig
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(str(part))
        model = _model_of(field.annotation) if field else None
    if model is None:
        return ""
    names = sorted(f.alias or n for n, f in model.model_fields.items() if n != "source")
    return f" (allowed here: {', '.join(names)})"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found:
            return found
    return None


def route_refs(config: DeploymentConfig) -> list[RouteRef]:
    return [route_ref(r) for r in config.listeners]


def route_ref(route: RouteConfig) -> RouteRef:
    swap = route.shift == "swap"
    if route.rule:
        return RouteRef(RouteKind.RULE, route.rule, swap)
    return RouteRef(RouteKind.LISTENER, route.arn or "", swap)
