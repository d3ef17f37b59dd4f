"""The configuration's models: one pydantic model per table of `bluegreen.toml`, with its
defaults and the checks that span several keys.

Rules: every model forbids unknown keys and is frozen; the value types (durations, AWS
names) are bluegreen.config.fields'; a check raises ValueError saying what is allowed, which
bluegreen.config.loading turns into a ConfigError naming the file and the key. The models
read nothing and call nothing: building one from a file is loading's work. `route_ref`
turns a configured route into the model's RouteRef, the form the layers below speak.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    model_validator,
)

from bluegreen.config.analysis import AnalysisConfig, placeholder_problems
from bluegreen.config.fields import (
    MAX_URL_RETRIES,
    AlarmName,
    Arn,
    Command,
    ContainerName,
    Duration,
    EcsName,
    Environment,
    EnvName,
    Headers,
    HttpUrl,
    LambdaFunction,
    PythonTarget,
    StrictModel,
    TargetGroupName,
    header_secrets,
    shown_url,
)
from bluegreen.machine import HookEvent
from bluegreen.model import RouteKind, RouteRef
from bluegreen.redact import Redactor, is_sensitive_key
from bluegreen.scaling import HoldMode

_Strict = StrictModel


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
STRATEGY_KEYS: dict[str, set[str]] = {
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
            other = set().union(*STRATEGY_KEYS.values()) - STRATEGY_KEYS.get(kind, set())
            stray = sorted(k for k in data if k in other)
            if kind in STRATEGY_KEYS and stray:
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


_URL_ONLY_KEYS = ("headers", "secret_env", "retries")


class HookConfig(_Strict):
    event: HookEvent
    name: str | None = None
    command: Command | None = None
    python: PythonTarget | None = None
    lambda_function: LambdaFunction | None = Field(default=None, alias="lambda")
    url: HttpUrl | None = None
    shell: bool = False
    timeout: Duration = Field(default=300.0, gt=0)
    env: Environment = Field(default_factory=dict)
    # url hooks only: extra request headers (their values are treated as secrets), the
    # environment variable holding the HMAC signing secret, retries of a failed delivery.
    headers: Headers = Field(default_factory=dict)
    secret_env: EnvName | None = None
    retries: int = Field(default=0, ge=0, le=MAX_URL_RETRIES)
    # The value of `secret_env`, taken from the environment when the file is loaded: never
    # a key of the file, never dumped or shown.
    _signing_secret: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_kind(self) -> HookConfig:
        kinds = [
            k for k in (self.command, self.python, self.lambda_function, self.url) if k is not None
        ]
        if len(kinds) != 1:
            raise ValueError('give exactly one of "command", "python", "lambda" or "url"')
        if self.shell and self.command and len(self.command) != 1:
            raise ValueError('with shell = true, command is one string: ["cmd | other"]')
        stray = [key for key in _URL_ONLY_KEYS if key in self.model_fields_set]
        if self.url is None and stray:
            verb = "is" if len(stray) == 1 else "are"
            raise ValueError(f"{', '.join(stray)} {verb} only for url hooks (this one has no url)")
        return self

    @property
    def display_name(self) -> str:
        """How the hook is shown (plan, logs, records): its command line with secrets masked,
        the values of its secret-named `env` entries included; a URL without its query."""
        if self.name:
            shown = self.name
        elif self.command:
            shown = " ".join(self.command)
        elif self.url:
            shown = f"POST {shown_url(self.url)}"
        else:
            shown = self.python or self.lambda_function or "hook"
        return self.redactor.redact(shown)

    @property
    def redactor(self) -> Redactor:
        """Masks the values of its secret-named `env` entries, of every header, and its
        signing secret."""
        return Redactor(
            [
                *(value for key, value in self.env.items() if is_sensitive_key(key)),
                *header_secrets(self.headers),
                *([self._signing_secret] if self._signing_secret else []),
            ]
        )

    @property
    def signing_secret(self) -> str | None:
        return self._signing_secret

    def take_signing_secret(self, environ: Mapping[str, str]) -> bool:
        """Keep the value of `secret_env` from `environ` (loading hands it the process's
        environment). False when the hook names a variable that is unset or empty."""
        if self.secret_env is None:
            return True
        self._signing_secret = environ.get(self.secret_env) or None
        return self._signing_secret is not None


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


class AutoScalingConfig(_Strict):
    # What is suspended on the services' Application Auto Scaling targets while a
    # deployment runs, and restored as found after (bluegreen/scaling.py says why).
    hold: HoldMode = "scale-in"


class DeploymentConfig(_Strict):
    service: ServiceConfig
    target_groups: TargetGroupsConfig
    listeners: list[RouteConfig] = Field(min_length=1)
    test_listener: RouteConfig | None = None
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    gates: GatesConfig = Field(default_factory=GatesConfig)
    hooks: list[HookConfig] = Field(default_factory=list)
    analysis: AnalysisConfig | None = None  # metric checks judging green while it bakes
    state: StateConfig = Field(default_factory=StateConfig)
    autoscaling: AutoScalingConfig = Field(default_factory=AutoScalingConfig)
    timeout: Duration | None = None  # the whole deployment; past it → rollback
    # On SIGINT/SIGTERM, after the AWS call in progress: roll back, or leave it resumable.
    on_interrupt: Literal["rollback", "leave"] = "rollback"
    source: Path = Field(default=Path("bluegreen.toml"), exclude=True)

    @model_validator(mode="after")
    def _analysis_fits_the_mode(self) -> DeploymentConfig:
        if self.analysis:
            problems = placeholder_problems(self.analysis, self.service.mode)
            if problems:
                raise ValueError("; ".join(problems))
            self._smoke_checks_have_a_way_in()
        return self

    def _smoke_checks_have_a_way_in(self) -> None:
        assert self.analysis is not None
        if self.test_listener is not None:
            return
        for number, check in enumerate(self.analysis.http):
            if check.through_test_listener:
                raise ValueError(
                    f"analysis.http.{number}: path {check.path!r} is requested through the "
                    "test listener, and there is no [test_listener]: add one, or give the "
                    'check a url (e.g. url = "https://green.internal.example.com/health")'
                )

    @property
    def base_dir(self) -> Path:
        return self.source.parent

    @property
    def service_label(self) -> str:
        """The service as people name it: "web", or "web-blue+web-green" for a pair."""
        return self.service.name or f"{self.service.blue_service}+{self.service.green_service}"

    @property
    def redactor(self) -> Redactor:
        """Masks what the logs mask, the values of every hook's secret-named `env` and
        headers, and the header values of every smoke check."""
        smoke = self.analysis.http if self.analysis else []
        return Redactor(
            [
                *(v for hook in self.hooks for v in hook.redactor.secret_values),
                *(v for check in smoke for v in header_secrets(check.headers)),
            ]
        )

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


def route_refs(config: DeploymentConfig) -> list[RouteRef]:
    return [route_ref(r) for r in config.listeners]


def route_ref(route: RouteConfig) -> RouteRef:
    swap = route.shift == "swap"
    if route.rule:
        return RouteRef(RouteKind.RULE, route.rule, swap)
    return RouteRef(RouteKind.LISTENER, route.arn or "", swap)
