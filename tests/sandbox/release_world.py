"""Releases on the sandbox: several serving stacks, one bluegreen.toml each, and a release
file that names them (tests/sandbox/test_release*.py, benchmarks/release.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from bluegreen.config.loading import merge_overrides
from bluegreen.onboarding.toml_writer import to_toml
from bluegreen.release import Release
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.stack import SandboxStack, build_stack

NEW_IMAGE = "public.ecr.aws/bluegreen/demo-web:2.0.0"


@dataclass
class ReleaseWorld:
    sandbox: Sandbox
    folder: Path
    stacks: dict[str, SandboxStack]

    def write(self, services: list[dict[str, Any]] | None = None, **top: Any) -> Path:
        """The release file; `services` entries are laid over the default (each stack with
        the new image), matched by name."""
        extra = {s["name"]: s for s in services or []}
        lines = [to_toml(top)] if top else []
        for name in self.stacks:
            entry = merge_overrides(
                {"name": name, "config": f"{name}/bluegreen.toml", "images": {"web": NEW_IMAGE}},
                extra.get(name, {}),
            )
            lines.append(
                "[[services]]\n" + "".join(f"{k} = {_inline(v)}\n" for k, v in entry.items())
            )
        path = self.folder / "release.toml"
        path.write_text("\n".join(lines), encoding="utf-8")
        return path

    def release(self, path: Path | None = None) -> Release:
        return Release.from_file(path or self.write(), clock=self.sandbox.clock)

    def weights(self, name: str) -> list[dict[str, int]]:
        """Each production listener's weights for `name`: target group name → weight."""
        stack = self.stacks[name]
        elb = boto3.client("elbv2", region_name=stack.region)
        names = {stack.blue_tg_arn: "blue", stack.green_tg_arn: "green"}
        found = []
        for arn in (stack.http_listener_arn, stack.https_listener_arn):
            with self.sandbox.api_limits.paused():  # the test's look costs the product nothing
                (listener,) = elb.describe_listeners(ListenerArns=[arn])["Listeners"]
            groups = listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
            found.append({names[g["TargetGroupArn"]]: g["Weight"] for g in groups})
        return found


def release_world(sandbox: Sandbox, folder: Path, names: list[str], **config: Any) -> ReleaseWorld:
    stacks = {}
    for name in names:
        stack = build_stack(sandbox, service_name=name)
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "bluegreen.toml").write_text(stack.config_toml(**config))
        stacks[name] = stack
    return ReleaseWorld(sandbox, folder, stacks)


def _inline(value: Any) -> str:
    """A TOML value on one line: inline tables, so a [[services]] entry stays one block."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return json.dumps(value)
