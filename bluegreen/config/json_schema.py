"""The JSON Schema of `bluegreen.toml` (draft 2020-12), built from the configuration model,
so an editor can complete and check the file as it is typed (`bluegreen schema`).

Rules: the model (schema.py, analysis.py, smoke.py, metric_query.py) is the one source; this
module only reshapes what pydantic derives from it into what a TOML editor can use. TOML has
no null, so the "or null" of optional keys is dropped; the file's own spelling of a key is
used (`lambda`); `source` (where the file was read from, not a key) is left out; each key's
description comes from its Field or else from key_docs.py. The schema accepts what the
loader accepts, key by key; the checks that span several keys (exactly one of `arn` or
`rule`, steps ending at 100, …) stay the loader's, so a file the schema accepts may still
be refused by `bluegreen verify`, with the key named.
"""

from __future__ import annotations

import copy
import typing
from typing import Any

import annotated_types
from pydantic import BaseModel

from bluegreen.config.fields import DURATION_SCHEMA, PERCENT_SCHEMA
from bluegreen.config.key_docs import KEY_DOCS
from bluegreen.config.schema import DeploymentConfig

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:bluegreen:schema:bluegreen.toml"
TITLE = "bluegreen.toml"
DESCRIPTION = (
    "The configuration of a bluegreen deployment: an Amazon ECS service behind Elastic Load "
    "Balancing, its two target groups, the routes that move, and how green is judged."
)
_NOT_A_KEY = "source"  # the model's record of the file's path

# An HTTP status (200) or a class of them ("2xx"), as smoke.py's `_statuses` reads them.
_STATUS = {
    "anyOf": [
        {"type": "integer", "minimum": 100, "maximum": 599},
        {"type": "string", "pattern": r"^\s*([1-5][0-9][0-9]|[1-5][xX][xX])\s*$"},
    ]
}
_DURATION_TEXT = {**DURATION_SCHEMA["anyOf"][1], "x-bluegreen-type": "duration"}
_BOUND = {"anyOf": [{"type": "number"}, PERCENT_SCHEMA, _DURATION_TEXT]}
# Keys whose model reads more than pydantic can tell: a before-validator converts them.
_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("HttpCheckConfig", "expect_status"): {
        "anyOf": [_STATUS, {"type": "array", "items": _STATUS, "minItems": 1}],
        "default": 200,
        "x-bluegreen-type": "status or array of statuses",
    },
    # Upper-cased when read: "get" is GET.
    ("HttpCheckConfig", "method"): {
        "type": "string",
        "enum": ["GET", "HEAD", "OPTIONS", "get", "head", "options"],
        "default": "GET",
    },
    # error_rate's bounds may be percentages, latency's durations.
    ("MetricCheckConfig", "max"): _BOUND,
    ("MetricCheckConfig", "min"): _BOUND,
}


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema of bluegreen.toml, as a JSON-ready dict (a fresh copy each call)."""
    raw = DeploymentConfig.model_json_schema(mode="validation", by_alias=True)
    definitions = raw.pop("$defs")
    raw["properties"].pop(_NOT_A_KEY)
    raw["title"] = "DeploymentConfig"
    models = _models(DeploymentConfig, {})
    for name, definition in [("DeploymentConfig", raw), *definitions.items()]:
        _reshape_table(name, definition)
        if name in models:
            _bound_durations(models[name], definition)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": TITLE,
        "description": DESCRIPTION,
        **{k: v for k, v in raw.items() if k != "title"},
        "$defs": definitions,
    }


def _reshape_table(name: str, definition: dict[str, Any]) -> None:
    definition.pop("description", None)  # a model's docstring speaks to developers
    docs = KEY_DOCS.get(name, {})
    for key, prop in definition.get("properties", {}).items():
        reshaped = _without_null(copy.deepcopy(_OVERRIDES.get((name, key), prop)))
        reshaped.pop("title", None)
        if "description" not in reshaped and key in docs:
            reshaped["description"] = docs[key]
        definition["properties"][key] = reshaped


def _models(model: type[BaseModel], found: dict[str, type[BaseModel]]) -> dict[str, Any]:
    """Every model the configuration is made of, by name (the schema's $defs)."""
    found[model.__name__] = model
    for field in model.model_fields.values():
        stack: list[Any] = [field.annotation]
        while stack:
            kind = stack.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                if kind.__name__ not in found:
                    _models(kind, found)
            else:
                stack += typing.get_args(kind)
    return found


def _bound_durations(model: type[BaseModel], definition: dict[str, Any]) -> None:
    """A duration's own bounds (`Field(gt=0, le=600)`): pydantic leaves them out of a type
    whose schema is given whole, so they are put on its number form here."""
    for name, field in model.model_fields.items():
        prop = definition["properties"].get(field.alias or name)
        if prop is None or prop.get("x-bluegreen-type") != "duration":
            continue
        number = prop["anyOf"][0]
        for limit in field.metadata:
            if isinstance(limit, annotated_types.Gt):
                number.pop("minimum", None)
                number["exclusiveMinimum"] = limit.gt
            elif isinstance(limit, annotated_types.Le):
                number["maximum"] = min(number["maximum"], limit.le)


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """`X | None` as `X`: a TOML file leaves a key out instead. The default of null goes
    too (the key's absence says it)."""
    branches = prop.get("anyOf")
    if branches is None:
        return prop
    kept = [b for b in branches if b != {"type": "null"}]
    if prop.get("default", 0) is None:
        del prop["default"]
    if len(kept) == 1 and len(kept) != len(branches):
        del prop["anyOf"]
        return {**kept[0], **prop}
    prop["anyOf"] = kept
    return prop
