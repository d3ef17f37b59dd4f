"""The configured hooks as the hook runner takes them (one HookSpec per `[[hooks]]`)."""

from __future__ import annotations

from bluegreen.config import DeploymentConfig
from bluegreen.hooks.runner import HookSpec


def hook_specs(config: DeploymentConfig) -> list[HookSpec]:
    return [
        HookSpec(
            event=h.event,
            name=h.display_name,
            command=tuple(h.command) if h.command else None,
            python=h.python,
            lambda_function=h.lambda_function,
            url=h.url,
            shell=h.shell,
            timeout_seconds=h.timeout,
            env=h.env,
            cwd=str(config.base_dir),
            headers=h.headers,
            signing_secret=h.signing_secret,
            retries=h.retries,
        )
        for h in config.hooks
    ]
