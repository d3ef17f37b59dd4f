"""The value types of `bluegreen.toml`: durations, AWS names, process arguments.

Durations are "90s", "5m", "1h30m", "250ms" or a number of seconds; they are finite and at
most MAX_DURATION_SECONDS.

Names follow AWS's own rules, checked when the file is loaded: a name that AWS would refuse
is refused before any AWS call and before it reaches a file path (the file store names a
directory after the cluster and service). Where AWS accepts an ARN instead of a name, an
ARN is accepted too: `arn:` then the characters AWS uses in the ARNs of these resources,
at most 2048 of them (AWS's own upper bound for an ARN).

A hook's URL is http or https only, with a host and no credentials in it (they would be
shown wherever the hook is named: they go in a header); its headers are names and values
HTTP can carry, with no line break that would start another header.

Each checker returns the value unchanged or raises ValueError saying what is allowed;
pydantic turns that into an error naming the key (bluegreen.config).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

MAX_ARN_LENGTH = 2048
_ARN = re.compile(r"arn:[A-Za-z0-9_./:+=,@$-]+")
# ECS cluster, service and container names: "Up to 255 letters (uppercase and lowercase),
# numbers, underscores, and hyphens are allowed."
_ECS_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
# Target group names: "up to 32 alphanumeric characters or hyphens, and must not begin or
# end with a hyphen".
_TARGET_GROUP_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?")
# Lambda Invoke's FunctionName: a name, a partial ARN or an ARN, with an optional
# qualifier; 1–170 characters (the pattern of the Lambda API reference).
_LAMBDA_FUNCTION = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?"
    r"(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
MAX_LAMBDA_FUNCTION_LENGTH = 170
# CloudWatch alarm names: 1–255 characters, no ASCII control characters.
MAX_ALARM_NAME_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A Python hook: "package.module:function".
_PYTHON_TARGET = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
MAX_URL_LENGTH = 2048
MAX_URL_RETRIES = 10
# Set by bluegreen on every signed request: sha256=<hex HMAC of the body>.
SIGNATURE_HEADER = "X-Bluegreen-Signature"
# Headers the request itself sets: a configured one would contradict it.
RESERVED_HEADERS = ("content-length", "host", "transfer-encoding", SIGNATURE_HEADER.lower())
URL_SCHEMES = ("http", "https")
# An HTTP header name is a "token" (RFC 9110 §5.1); a value is visible characters, spaces
# and tabs (ASCII: what every HTTP stack sends as is): a CR or LF would end the header and
# let the value forge another.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]{0,8192}")
# An environment variable's name, as a POSIX shell can export it.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,255}")


class StrictModel(BaseModel):
    """The base of every table's model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def is_arn(value: str) -> bool:
    return len(value) <= MAX_ARN_LENGTH and _ARN.fullmatch(value) is not None


def ecs_name_or_arn(value: str) -> str:
    """An ECS cluster or service: its name or its ARN."""
    if _ECS_NAME.fullmatch(value) or is_arn(value):
        return value
    raise ValueError(
        "an ECS name is 1–255 letters, digits, hyphens and underscores (or give its ARN)"
    )


def container_name(value: str) -> str:
    """A container of the task definition: a name only (containers have no ARN)."""
    if _ECS_NAME.fullmatch(value):
        return value
    raise ValueError("a container name is 1–255 letters, digits, hyphens and underscores")


def target_group_name_or_arn(value: str) -> str:
    if _TARGET_GROUP_NAME.fullmatch(value) or is_arn(value):
        return value
    raise ValueError(
        "a target group name is 1–32 letters, digits and hyphens, not starting or ending "
        "with a hyphen (or give its ARN)"
    )


def arn(value: str) -> str:
    """A listener or listener rule: by ARN only."""
    if is_arn(value):
        return value
    raise ValueError(
        "an ARN is arn:… (e.g. arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/…), "
        f"at most {MAX_ARN_LENGTH} letters, digits and : / . _ - characters"
    )


def lambda_function(value: str) -> str:
    if len(value) <= MAX_LAMBDA_FUNCTION_LENGTH and _LAMBDA_FUNCTION.fullmatch(value):
        return value
    raise ValueError(
        "a Lambda function is its name (letters, digits, - and _) or its ARN, "
        f"at most {MAX_LAMBDA_FUNCTION_LENGTH} characters"
    )


def alarm_name(value: str) -> str:
    if 1 <= len(value) <= MAX_ALARM_NAME_LENGTH and not _CONTROL.search(value):
        return value
    raise ValueError(
        f"an alarm name is 1–{MAX_ALARM_NAME_LENGTH} characters, with no control characters"
    )


def python_target(value: str) -> str:
    if _PYTHON_TARGET.fullmatch(value):
        return value
    raise ValueError('a Python hook is "module:function" (e.g. "mypkg.hooks:check")')


def http_url(value: str) -> str:
    """A url hook's or a smoke check's address: http(s)://host[:port]/path[?query]."""
    if len(value) > MAX_URL_LENGTH or _CONTROL.search(value) or " " in value:
        raise ValueError(
            f"a URL is at most {MAX_URL_LENGTH} characters, without spaces or control characters"
        )
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    if parts.scheme.lower() not in URL_SCHEMES:
        got = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise ValueError(f'a URL is http:// or https:// (got {got}): e.g. "https://host/path"')
    if not parts.hostname:
        raise ValueError('a URL needs a host: e.g. "https://hooks.example.com/deploy"')
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "a URL cannot hold credentials (user:password@): send them in a header, "
            'e.g. headers = { Authorization = "Basic …" }'
        )
    return value


def shown_url(url: str) -> str:
    """The URL as logs, plans and errors show it: its query (where tokens often travel)
    masked, its fragment (never sent) dropped."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?***" if parts.query else "")


def header_secrets(headers: Mapping[str, str]) -> list[str]:
    """What to mask of a hook's headers: every value whole, and the credentials after an
    authentication scheme ("Bearer tok…" → "tok…" too, which may be echoed on its own; the
    scheme word itself stays readable)."""
    found: list[str] = []
    for value in headers.values():
        found += [value, *value.split()[1:]]
    return found


def header_names(headers: dict[str, str]) -> dict[str, str]:
    well_formed_header_names(headers)
    reserved = [name for name in headers if name.lower() in RESERVED_HEADERS]
    if reserved:
        raise ValueError(
            f"{', '.join(reserved)}: set by bluegreen on each request, not in headers "
            "(the signature comes from secret_env)"
        )
    return headers


def well_formed_header_names(headers: Mapping[str, str]) -> None:
    bad = [name for name in headers if not _HEADER_NAME.fullmatch(name)]
    if bad:
        raise ValueError(
            f"header names are letters, digits and !#$%&'*+.^_`|~- (got {', '.join(bad)})"
        )


def header_value(value: str) -> str:
    if not _HEADER_VALUE.fullmatch(value):
        raise ValueError(
            "a header value is one line of at most 8192 printable ASCII characters "
            "(no CR, LF or NUL)"
        )
    return value


def env_name(value: str) -> str:
    if _ENV_NAME.fullmatch(value):
        return value
    raise ValueError(
        "an environment variable name is letters, digits and _, not starting with a digit"
    )


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
# No wait of a deployment (bake, pause, health timeout, hook, lease, the whole deployment)
# needs more than a week; anything longer is a typo ("5000h"), and inf/nan would bake for
# ever or compare as never done.
MAX_DURATION_SECONDS = 7 * 86400


def parse_duration(value: object) -> float:
    """ "90s", "5m", "1h30m", "250ms" or a number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError('a duration is a string like "90s", "5m" or "1h"')
    if isinstance(value, int) and value > MAX_DURATION_SECONDS:  # float(10**400) overflows
        seconds = math.inf
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace(" ", "")
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f'"{value}" is not a duration: use e.g. "90s", "5m", "1h30m"')
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    else:
        raise ValueError('a duration is a string like "90s", "5m" or "1h"')
    if math.isnan(seconds):
        raise ValueError('a duration is a number of seconds, not nan: use e.g. "90s"')
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds > MAX_DURATION_SECONDS:
        raise ValueError(
            f'a duration is finite and at most 7d ({MAX_DURATION_SECONDS}s): use e.g. "2h"'
        )
    return seconds


_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
MAX_PERCENT = 10_000.0  # a tolerance of +10,000 % tolerates anything: more is a typo


def parse_percent(value: object) -> float:
    """ "25%" → 0.25. A bare number is refused: 0.25 could mean 25 % or 0.25 %."""
    if isinstance(value, str) and (match := _PERCENT.fullmatch(value.strip())):
        fraction = float(match.group(1)) / 100
        if fraction * 100 > MAX_PERCENT:
            raise ValueError(f"a percentage is at most {MAX_PERCENT:g}%")
        return fraction
    raise ValueError('a percentage is a string such as "25%" or "2.5%"')


# What an editor may check of a duration or a percentage (bluegreen.config.json_schema):
# the same forms the parsers above accept, spelled as JSON Schema.
DURATION_PATTERN = r"^\s*(\d+(\.\d+)? *(ms|s|m|h|d) *)+\s*$"
DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": MAX_DURATION_SECONDS},
        {"type": "string", "pattern": DURATION_PATTERN},
    ],
    "x-bluegreen-type": "duration",
}
PERCENT_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r"^\s*\d+(\.\d+)?\s*%\s*$",
    "x-bluegreen-type": "percent",
}
Duration = Annotated[float, BeforeValidator(parse_duration), WithJsonSchema(DURATION_SCHEMA)]
Percent = Annotated[float, BeforeValidator(parse_percent), WithJsonSchema(PERCENT_SCHEMA)]
EcsName = Annotated[str, AfterValidator(ecs_name_or_arn)]
ContainerName = Annotated[str, AfterValidator(container_name)]
TargetGroupName = Annotated[str, AfterValidator(target_group_name_or_arn)]
Arn = Annotated[str, AfterValidator(arn)]
AlarmName = Annotated[str, AfterValidator(alarm_name)]
LambdaFunction = Annotated[str, AfterValidator(lambda_function)]
PythonTarget = Annotated[str, AfterValidator(python_target)]
HttpUrl = Annotated[str, AfterValidator(http_url)]
EnvName = Annotated[str, AfterValidator(env_name)]
HeaderValue = Annotated[str, AfterValidator(header_value)]
Headers = Annotated[dict[str, HeaderValue], AfterValidator(header_names)]
# Handed to a process: the OS refuses a NUL inside an argument or environment variable.
Argument = Annotated[str, AfterValidator(lambda v: _no_nul(v, "an argument"))]
EnvValue = Annotated[str, AfterValidator(lambda v: _no_nul(v, "an environment value"))]


def _no_nul(value: str, what: str) -> str:
    if "\0" in value:
        raise ValueError(f"{what} cannot contain a NUL character")
    return value


def _program_first(command: list[str]) -> list[str]:
    # An empty program would only fail once green is up, and roll it back.
    if not command or not command[0].strip():
        raise ValueError('command is empty: give the program first, e.g. ["./smoke.sh"]')
    return command


def _env_names(env: dict[str, str]) -> dict[str, str]:
    bad = [name for name in env if not name or "=" in name or "\0" in name]
    if bad:
        raise ValueError(f"environment names cannot be empty or hold = or NUL: {bad!r}")
    return env


Command = Annotated[list[Argument], AfterValidator(_program_first)]
Environment = Annotated[dict[str, EnvValue], AfterValidator(_env_names)]
