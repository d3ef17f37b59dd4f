"""Reading a configuration: the TOML file, the CLI's overrides merged over it, validation
into a DeploymentConfig, and every failure described as one ConfigError (exit 2).

Rules: nothing here calls AWS; a file that cannot be read or parsed (missing, a directory,
not UTF-8, nested too deeply) is a ConfigError like an invalid key; overrides are merged
before validation, so they are validated exactly like the file; each error line names the
file, the key and what is allowed (the allowed keys of the table, the offending value
shortened). A url hook's `secret_env` is read here, once, from the environment: a variable
that is unset is an error like an invalid key, before any deployment starts.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bluegreen.config.schema import STRATEGY_KEYS, DeploymentConfig
from bluegreen.errors import ConfigError

# No valid configuration nests deeper than 4 (hooks → env → value); far deeper input is
# hostile, and would exhaust the recursion limit of what reads it.
MAX_NESTING = 16


def load_config(
    path: str | Path = "bluegreen.toml", overrides: Mapping[str, Any] | None = None
) -> DeploymentConfig:
    path = Path(path)
    return parse_config(read_toml(path), source=path, overrides=overrides)


def read_toml(path: Path) -> dict[str, Any]:
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
    environ: Mapping[str, str] | None = None,
) -> DeploymentConfig:
    """`environ` (the process's environment unless given) holds the hooks' signing secrets."""
    for given in (data, overrides or {}):
        _refuse_deep_nesting(source, given)
    merged = merge_overrides(data, overrides or {})
    if "source" in merged:  # the model's own field for the file's path, never a key
        raise ConfigError(f"{source}: source: unknown key{_allowed_keys(('source',))}")
    try:
        config = DeploymentConfig.model_validate({**merged, "source": source})
    except ValidationError as exc:
        raise ConfigError(describe_invalid(source, exc, merged)) from None
    _take_signing_secrets(source, config, os.environ if environ is None else environ)
    return config


def _take_signing_secrets(
    source: Path, config: DeploymentConfig, environ: Mapping[str, str]
) -> None:
    missing = [
        (index, hook.secret_env)
        for index, hook in enumerate(config.hooks)
        if not hook.take_signing_secret(environ)
    ]
    if missing:
        names = sorted({name for _, name in missing if name})
        raise ConfigError(
            "\n".join(
                f"{source}: hooks.{index}.secret_env: the environment variable {name} is not "
                "set (or is empty): it holds the secret that signs this hook's requests"
                for index, name in missing
            ),
            hint=f"export {names[0]}=… before running bluegreen, or remove secret_env "
            "to send the requests unsigned",
        )


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
        if k in STRATEGY_KEYS.get(kind, set()) or k not in set().union(*STRATEGY_KEYS.values())
    }
    return {**data, "strategy": keep}


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            base[key] = _merge(dict(base[key]), value)
        else:
            base[key] = value
    return base


def describe_invalid(
    source: Path,
    exc: ValidationError,
    data: Mapping[str, Any],
    root: type[BaseModel] = DeploymentConfig,
) -> str:
    lines = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key{_allowed_keys(error['loc'], root)}"
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


def _allowed_keys(loc: tuple[int | str, ...], root: type[BaseModel] = DeploymentConfig) -> str:
    model: type[BaseModel] | None = root
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
