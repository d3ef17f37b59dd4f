"""Releases on the sandbox: several serving stacks, a bluegreen.toml for each in a folder
of its own, and a release file naming them — for tests, benchmarks and rehearsals.

    folder/release.toml
    folder/<name>/bluegreen.toml    one per service, each with its own load balancer
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bluegreen.config.loading import merge_overrides
from bluegreen.onboarding.toml_writer import to_toml
from bluegreen.sandbox.stack import SandboxStack, build_stack
from bluegreen.sandbox.world import Sandbox

NEW_IMAGE = "public.ecr.aws/bluegreen/demo-web:2.0.0"


def build_release_stacks(
    sandbox: Sandbox, folder: Path, names: Sequence[str], **config: Any
) -> dict[str, SandboxStack]:
    """A serving stack per name (inside `in_process(sandbox)`), and its bluegreen.toml
    with `config` laid over the stack's own."""
    stacks = {}
    for name in names:
        stack = build_stack(sandbox, service_name=name)
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "bluegreen.toml").write_text(stack.config_toml(**config))
        stacks[name] = stack
    return stacks


def write_release_file(
    folder: Path,
    names: Sequence[str],
    services: Sequence[Mapping[str, Any]] = (),
    **top: Any,
) -> Path:
    """folder/release.toml: every name with the new image; a `services` entry is laid over
    the one of its name; `top` holds the release's own keys (name, strategy, state)."""
    extra = {s["name"]: s for s in services}
    blocks = [to_toml(top)] if top else []
    for name in names:
        entry = merge_overrides(
            {"name": name, "config": f"{name}/bluegreen.toml", "images": {"web": NEW_IMAGE}},
            extra.get(name, {}),
        )
        # inline tables, so each [[services]] entry stays one block
        blocks.append("[[services]]\n" + "".join(f"{k} = {_inline(v)}\n" for k, v in entry.items()))
    path = folder / "release.toml"
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return json.dumps(value)
