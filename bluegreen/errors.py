"""The one exception tree of bluegreen. Every error carries its exit code (the README's exit codes).

    BluegreenError                 exit 1   base; never raised bare
    ├── ConfigError                exit 2   bluegreen.toml or a flag is wrong; no AWS call made
    ├── UsageError                 exit 2   a command was used wrongly (no deployment to promote…)
    ├── PreflightError             exit 2   AWS is not in a state we can start from; nothing changed
    │   ├── MissingResourceError            a cluster, service, listener or target group is missing
    │   └── ConflictError                   listeners disagree / split in flight with no record
    ├── AwsError                   exit 1   an AWS call failed after bounded retries
    │   └── EndpointUnreachable    exit 2   no connection to the endpoint: nothing was sent
    ├── DeploymentFailed           exit 1   the deployment failed and was rolled back; blue serves
    │   ├── HealthCheckFailed               green never became healthy
    │   ├── GateFailed                      an alarm or target health gate failed during a stage
    │   │   ├── AnalysisFailed              metric analysis judged green worse than blue
    │   │   └── SmokeCheckFailed            a smoke check's request did not get what it expects
    │   ├── HookFailed                      a hook failed or timed out
    │   └── DeploymentStopped               pre_provision hook failed: nothing to roll back
    ├── RollbackFailed             exit 3   rollback could not complete: a person must act
    ├── CleanupIncomplete          exit 3   succeeded (green serves), but blue could not be
    │                                       retired: a person must act
    ├── LockNotReleased            exit 1   the lock could not be deleted; never raised out of
    │                                       a deployment (a warning there: it lapses)
    └── LockHeldError              exit 4   another deployment of this service holds the lock
                                            or is in flight (paused, or its process died)

Messages say what failed, where, and what to do about it; the CLI prints them as they are.
"""

from __future__ import annotations


class BluegreenError(Exception):
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


class ConfigError(BluegreenError):
    exit_code = 2


class UsageError(BluegreenError):
    exit_code = 2


class PreflightError(BluegreenError):
    exit_code = 2


class MissingResourceError(PreflightError):
    pass


class ConflictError(PreflightError):
    pass


class AwsError(BluegreenError):
    """`transient`: AWS kept throttling or failing through every retry — it may pass, and
    says nothing about the configuration."""

    exit_code = 1

    def __init__(
        self,
        operation: str,
        code: str,
        message: str,
        *,
        hint: str | None = None,
        transient: bool = False,
    ):
        super().__init__(f"AWS {operation} failed: {code}: {message}", hint=hint)
        self.operation = operation
        self.code = code
        self.transient = transient


class EndpointUnreachable(AwsError):
    """No connection could be made to the AWS endpoint, so no request reached AWS and
    nothing changed. Most often configuration (the endpoint URL, the region, a proxy), so
    exit 2 like one; during a deployment it is a failed call like any other (rollback)."""

    exit_code = 2

    def __init__(self, operation: str, endpoint: str, detail: str, *, hint: str | None = None):
        BluegreenError.__init__(
            self, f"could not reach the AWS endpoint {endpoint} ({operation}): {detail}", hint=hint
        )
        self.operation = operation
        self.code = "EndpointUnreachable"
        self.endpoint = endpoint
        self.transient = True  # a network blip passes too


class DeploymentFailed(BluegreenError):
    """Raised out of a deployment that was rolled back: blue serves production."""

    exit_code = 1


class HealthCheckFailed(DeploymentFailed):
    pass


class GateFailed(DeploymentFailed):
    pass


class AnalysisFailed(GateFailed):
    """Metric analysis failed green (or, with on_inconclusive = "fail", could not judge
    it by the end of a bake)."""


class SmokeCheckFailed(GateFailed):
    """A smoke check (`[[analysis.http]]`) failed green before production traffic moved."""


class HookFailed(DeploymentFailed):
    pass


class DeploymentStopped(DeploymentFailed):
    """Stopped before anything changed (a failing pre_provision hook)."""


class RollbackRequested(DeploymentFailed):
    """Someone asked for a rollback (the CLI, the API, or a pause timeout)."""


class TimeoutExceeded(DeploymentFailed):
    """The deployment ran past --timeout."""


class RollbackFailed(BluegreenError):
    exit_code = 3
    # Said when nothing more precise is: `bluegreen rollback` takes up a rollback that
    # could not complete (Deployer.rollback).
    RETRY = "a person must act: fix what is named above, then run `bluegreen rollback` again"


class CleanupIncomplete(BluegreenError):
    """The deployment succeeded — green serves all production traffic — but blue's task set
    or service could not be retired: nothing is broken, yet a person must act (blue keeps
    running with no traffic until then), hence exit 3. `.result.outcome` is "succeeded"."""

    exit_code = 3


class LockNotReleased(BluegreenError):
    """The lock could not be deleted. A deployment that ran turns this into a warning on
    its result (Deployer): the deployment's outcome and exit code stand."""


class LockHeldError(BluegreenError):
    exit_code = 4
