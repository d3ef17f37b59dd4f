"""Smoke checks during a deployment: when they run, where their requests go, what is kept.

Rules:
- They run once green is healthy and before any production weight moves: in TEST_TRAFFIC
  once the test listener routes to green (before the post_test_traffic hooks), or, with
  no test listener, at the end of WAITING_HEALTHY (after the post_provision hooks). A
  resumed deployment that re-enters the state runs them again, from a clean slate.
- A check with a `path` goes to the test listener: `rec.test_url`, its load balancer's DNS
  name and the listener's port and protocol, read once at preflight (the hooks get the
  same address); one with a `url` goes there.
- Checks run in the order configured; the first that fails raises SmokeCheckFailed,
  naming it, so the engine rolls back. Each verdict is kept in the record and told as
  an event; header values never appear in either.
- Before every request the deployment's `--timeout` is checked, as the watch loop does:
  a long series of requests cannot outlast it.
- With no `[[analysis.http]]`, nothing is read and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Callable

from bluegreen.clock import Clock
from bluegreen.config import DeploymentConfig
from bluegreen.engine.watch import check_deadline
from bluegreen.errors import SmokeCheckFailed
from bluegreen.record import DeploymentRecord, SmokeEntry
from bluegreen.smoke import Fetch, request, run_check

Note = Callable[[DeploymentRecord, str], None]


class SmokeChecks:
    def __init__(
        self,
        config: DeploymentConfig,
        clock: Clock,
        note: Note,
        before_each: Callable[[], None],
        fetch: Fetch = request,
    ) -> None:
        self.checks = config.analysis.http if config.analysis else []
        self.timeout = config.timeout
        self.clock = clock
        self._note = note
        self._before_each = before_each
        self._fetch = fetch

    def run(self, rec: DeploymentRecord) -> None:
        """Run every check against green; SmokeCheckFailed at the first that fails."""
        if not self.checks:
            return
        rec.smoke = []
        base_url = self._test_listener_url(rec)

        def before_each() -> None:  # signals, and the deployment's --timeout, between tries
            self._before_each()
            check_deadline(rec, self.clock.now(), self.timeout)

        for check in self.checks:
            verdict = run_check(check, base_url, self.clock, before_each, self._fetch)
            rec.smoke = [*rec.smoke, SmokeEntry(**verdict.to_dict(), at=self.clock.now())]
            if not verdict.ok:
                self._note(rec, f"smoke check failed: {verdict.reason}")
                raise SmokeCheckFailed(
                    f"smoke check failed before production traffic moved: {verdict.reason}"
                )
            passed = f"{verdict.passed} request{'s' * (verdict.passed != 1)} to {verdict.url}"
            self._note(rec, f"smoke check {verdict.check} passed: {passed}")

    def _test_listener_url(self, rec: DeploymentRecord) -> str | None:
        if rec.test_route is None or not any(c.through_test_listener for c in self.checks):
            return None
        if not rec.test_url:
            raise SmokeCheckFailed(
                f"smoke checks: the load balancer of test listener {rec.test_route.arn} has no "
                "DNS name to send them to",
                hint="give each [[analysis.http]] check a url",
            )
        return rec.test_url
