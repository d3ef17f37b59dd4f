"""Releases on the sandbox for tests: the stacks and files of
bluegreen.sandbox.release_stack, and the weights every service's listeners show."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from bluegreen.release import Release
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.release_stack import NEW_IMAGE, build_release_stacks, write_release_file
from bluegreen.sandbox.stack import SandboxStack

__all__ = ["NEW_IMAGE", "ReleaseWorld", "release_world"]


@dataclass
class ReleaseWorld:
    sandbox: Sandbox
    folder: Path
    stacks: dict[str, SandboxStack]

    def write(self, services: list[dict[str, Any]] | None = None, **top: Any) -> Path:
        return write_release_file(self.folder, list(self.stacks), services or (), **top)

    def release(self, path: Path | None = None) -> Release:
        return Release.from_file(path or self.write(), clock=self.sandbox.clock)

    def weights(self, name: str) -> list[dict[str, int]]:
        """Each production listener's weights for `name`: colour → weight."""
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
    return ReleaseWorld(sandbox, folder, build_release_stacks(sandbox, folder, names, **config))
