"""Several services deployed as one release (`bluegreen release`): the Python API.

Every green is brought up and healthy before any production traffic moves; every route of
every service moves at each stage together; every service's gates and analysis are
watched all along; a failure anywhere puts every service back on blue. Past the commit
(every service at 100 %, baked and past its termination wait) blues are retired and
nothing rolls back.

The release has one record (release_record.py) and each service its own, as a lone
deployment does, with `release_id`; `status`, `history`, `resume`, `rollback` and
`promote` act on the release's latest record. The rooms: the release file in
config/release.py, the services in members.py, locks and threads in run.py, the waiting
rules in coordinator.py, outcomes in result.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bluegreen.clock import Clock, RealClock
from bluegreen.config.release import ReleaseFile, load_release_file
from bluegreen.deployer.records import start_rollback
from bluegreen.deployer.result import DeploymentResult, final_weights, rolled_back_as_asked
from bluegreen.errors import DeploymentFailed, LockHeldError, UsageError
from bluegreen.machine import State
from bluegreen.ports import Cloud
from bluegreen.record import DeploymentRecord, Request
from bluegreen.release.coordinator import Coordinator
from bluegreen.release.members import (
    Member,
    check_detachable,
    load_members,
    pacing_warning,
)
from bluegreen.release.result import (
    ReleasePlan,
    ReleaseResult,
    ReleaseStatus,
    conclusion,
    returned_or_raised,
)
from bluegreen.release.run import Drive, ReleaseEventSink, drive, lock_all, release_all
from bluegreen.release_record import ReleaseMember, ReleaseRecord, ReleaseState, new_release_id
from bluegreen.report.release import release_markdown
from bluegreen.store import Lock
from bluegreen.store.holder import actor
from bluegreen.store.releases import latest_release, open_release_store
from bluegreen.strategies import stages_for
from bluegreen.turns import TurnClock

if TYPE_CHECKING:
    from bluegreen.aws.s3 import S3Objects

# A rollback asked for while another process runs the release: how long to wait for it.
ANSWER_WAIT_SECONDS = 600.0


class Release:
    def __init__(
        self,
        file: ReleaseFile,
        *,
        cloud: Cloud | Callable[[], Cloud] | None = None,
        clock: Clock | None = None,
        aws: Mapping[str, str | None] | None = None,
    ) -> None:
        self.file = file
        self.turns = TurnClock(clock or RealClock())
        self._cloud = cloud
        self._aws = dict(aws or {})
        self.members = load_members(file, self._shared_cloud, self.turns)
        self.store = open_release_store(file.state.backend, file.base_dir, self._state_bucket)

    @classmethod
    def from_file(
        cls,
        path: str | Path = "release.toml",
        *,
        images: dict[str, dict[str, str]] | None = None,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        cloud: Cloud | Callable[[], Cloud] | None = None,
        clock: Clock | None = None,
    ) -> Release:
        aws = {"profile": profile, "region": region, "endpoint_url": endpoint_url}
        return cls(load_release_file(path, images), cloud=cloud, clock=clock, aws=aws)

    @property
    def name(self) -> str:
        return self.file.release_name

    def _shared_cloud(self) -> Cloud:
        """One Cloud for every service: its reads and retries are shared and paced."""
        if self._cloud is None:
            from bluegreen.aws import connect

            self._cloud = connect(clock=self.turns, **self._aws)
        elif callable(self._cloud):
            self._cloud = self._cloud()
        return self._cloud

    def _state_bucket(self, bucket: str) -> S3Objects:
        from bluegreen.aws import connect_s3

        return connect_s3(bucket, clock=self.turns, **self._aws)

    # ------------------------------------------------------------------ verbs

    def run(
        self, *, on_event: ReleaseEventSink | None = None, detach_at_pause: bool = False
    ) -> ReleaseResult:
        """Deploy every service as one release; see the module's docstring.
        `detach_at_pause`: return once every service waits at the strategy's pause (the
        release is then PAUSED; `promote` drives it on)."""
        check_detachable(self.members, detach_at_pause)
        for member in self.members:
            member.version.check()
        now = self.turns.now()
        record = ReleaseRecord(
            id=new_release_id(now),
            name=self.name,
            members=[],
            created_at=now,
            updated_at=now,
            started_by=actor(),
        )
        slow = pacing_warning(self.members)
        recs = {m.name: m.deployer.new_record() for m in self.members}
        locks = lock_all(self.members, {n: r.id for n, r in recs.items()}, refuse_in_flight=True)
        try:
            record.members = [self._member_entry(m, recs[m.name]) for m in self.members]
            record.note(now, f"release of {', '.join(m.name for m in self.members)}")
            if slow:
                record.note(now, slow)
            self.store.save(record)
            for member in self.members:
                rec = recs[member.name]
                rec.release_id = record.id
                rec.note(now, f"deploying {member.version.describe()} in release {record.id}")
                member.deployer.store.save(rec)
            drives = [Drive(m, recs[m.name], m.version) for m in self.members]
            self._drive(record, drives, on_event, detach_at_pause=detach_at_pause)
        finally:
            kept = release_all(locks)
        return self._result(record, kept + ([slow] if slow else []))

    def plan(self) -> ReleasePlan:
        """Every service's plan, read from AWS as `run` would; changes nothing."""
        plans = {
            m.name: m.deployer.plan(m.version.images, m.version.task_definition)
            for m in self.members
        }
        stages = stages_for(self.members[0].deployer.config.strategy)
        weights = " → ".join(f"{s.weight}%" for s in stages)
        order = [f"every service's green healthy first; then {weights}, all together"]
        for entry in (m.entry for m in self.members):
            if entry.after:
                order.append(f"{entry.name}: green up once {', '.join(entry.after)} is healthy")
            if entry.shift_after:
                order.append(f"{entry.name}: shifts once {', '.join(entry.shift_after)} is at 100%")
        order.append("any failure puts every service back on blue")
        order.append("blues are retired once every service is at 100% and baked")
        if slow := pacing_warning(self.members):
            order.append(f"warning: {slow}")
        return ReleasePlan(self.name, order, plans)

    def status(self) -> ReleaseStatus:
        record = latest_release(self.store, self.name)
        return ReleaseStatus(record, {m.name: m.deployer.status() for m in self.members})

    def history(self) -> list[ReleaseRecord]:
        return self.store.history(self.name)

    def report(self, release_id: str | None = None) -> str:
        """The report of the release `release_id` (the latest without one), as Markdown:
        the release, then each service's own report."""
        records = self.history()
        found = [r for r in records if release_id in (None, r.id)]
        if not found:
            raise UsageError(
                f"release {release_id or self.name!r} is not recorded",
                hint="`bluegreen history --release FILE` lists the releases",
            )
        return release_markdown(found[0], self._records(found[0]))

    def resume(
        self, *, on_event: ReleaseEventSink | None = None, detach_at_pause: bool = False
    ) -> ReleaseResult:
        """Carry on a release left by a process that died or was stopped: forward when it
        had committed or every service is still on its way; back to blue for every service
        when one had failed."""
        check_detachable(self.members, detach_at_pause)
        record = self._unfinished("resume")
        locks = lock_all(self.members, self._ids(record))
        return self._carry_on(record, locks, on_event, detach_at_pause=detach_at_pause)

    def rollback(
        self, reason: str | None = None, *, on_event: ReleaseEventSink | None = None
    ) -> ReleaseResult:
        """Every service back on blue, returned as the release's result (as asked: not an
        error). When another process runs the release, it is asked to (each service's
        record gets the request) and this waits for it to be done. A rollback that could
        not complete raises RollbackFailed (exit 3)."""
        record = self._unfinished("roll back")
        if record.state is ReleaseState.COMMITTED:
            raise UsageError(
                f"release {record.id} has committed: blues are being retired, so it can only "
                "go forward",
                hint="finish it with `bluegreen resume --release FILE`",
            )
        request = Request(
            kind="rollback",
            reason=reason or "rollback requested",
            at=self.turns.now(),
            by=actor(),
        )
        try:
            try:
                locks = lock_all(self.members, self._ids(record))
            except LockHeldError:  # a live process runs it: ask it, wait for it
                return self._ask_and_wait(record, request)
            return self._carry_on(
                record, locks, on_event, first=lambda recs: self._start_rollbacks(recs, request)
            )
        except DeploymentFailed as exc:  # rolled back, as asked: blue serves production
            if (back := rolled_back_as_asked(exc, ReleaseResult)) is not None:
                return back
            raise

    def promote(
        self, *, on_event: ReleaseEventSink | None = None, detach_at_pause: bool = False
    ) -> ReleaseResult | list[str]:
        """Every paused service of the release goes on. While a process runs the release, it
        is asked to (each paused service's record gets the request) and the names of the
        services asked come back. When none does (the release detached at the pause), this
        drives it on — to its end, or with `detach_at_pause` to its next pause — and the
        release's result comes back."""
        check_detachable(self.members, detach_at_pause)
        record = self._unfinished("promote")
        paused = [m for m in self.members if self._load(m, record).state is State.PAUSED]
        if not paused:
            raise UsageError(f"release {record.id}: no service is paused, nothing to promote")
        try:
            locks = lock_all(self.members, self._ids(record))
        except LockHeldError:  # a live process runs it: ask it
            self._ask_to_go_on(record, paused)
            return [m.name for m in paused]
        return self._carry_on(
            record,
            locks,
            on_event,
            detach_at_pause=detach_at_pause,
            first=lambda _: self._ask_to_go_on(record, paused),
        )

    def _ask_to_go_on(self, record: ReleaseRecord, paused: list[Member]) -> None:
        for member in paused:
            entry = record.member(member.name)
            request = Request(kind="promote", at=self.turns.now(), by=actor())
            member.deployer.store.post_request(entry.service_key, entry.deployment_id, request)

    # ------------------------------------------------------------------ internals

    def _carry_on(
        self,
        record: ReleaseRecord,
        locks: list[Lock],
        on_event: ReleaseEventSink | None,
        *,
        detach_at_pause: bool = False,
        first: Callable[[dict[str, DeploymentRecord]], None] = lambda _: None,
    ) -> ReleaseResult:
        """Holding every lock: `first` (a rollback or a promote asked for), then every
        service driven on from its record; the locks released, whatever happens."""
        try:
            recs = self._records(record)
            first(recs)
            drives = self._drives_on(record, recs)
            self._drive(record, drives, on_event, recs, detach_at_pause=detach_at_pause)
        finally:
            kept = release_all(locks)
        return self._result(record, kept)

    def _member_entry(self, member: Member, rec: DeploymentRecord) -> ReleaseMember:
        return ReleaseMember(
            **member.entry.model_dump(), service_key=member.service_key, deployment_id=rec.id
        )

    def _unfinished(self, verb: str) -> ReleaseRecord:
        record = latest_release(self.store, self.name)
        if record.state.terminal:
            raise UsageError(
                f"release {record.id} is {record.state.value}: nothing to {verb}",
                hint="`bluegreen history --release FILE` lists the releases",
            )
        known = {m.name for m in self.members}
        if {m.name for m in record.members} != known:
            raise UsageError(
                f"release {record.id} deployed {', '.join(m.name for m in record.members)}; "
                f"the release file now lists {', '.join(sorted(known))}",
                hint="act on it with the release file it was started with",
            )
        return record

    def _ids(self, record: ReleaseRecord) -> dict[str, str]:
        return {m.name: m.deployment_id for m in record.members}

    def _load(self, member: Member, record: ReleaseRecord) -> DeploymentRecord:
        entry = record.member(member.name)
        return member.deployer.store.load(entry.service_key, entry.deployment_id)

    def _records(self, record: ReleaseRecord) -> dict[str, DeploymentRecord]:
        return {m.name: self._load(m, record) for m in self.members}

    def _drives_on(self, record: ReleaseRecord, recs: dict[str, DeploymentRecord]) -> list[Drive]:
        """Who has something left to do. Once one service failed (and the release has not
        committed), every other one still on its way rolls back."""
        failed = [n for n, r in recs.items() if _gone_back(r)]
        if failed and record.state is ReleaseState.RUNNING:
            request = Request(kind="rollback", reason=f"{failed[0]} had failed", by=actor())
            self._start_rollbacks(recs, request)
        for member in self.members:  # a failed rollback is tried again
            rec = recs[member.name]
            if rec.state is State.FAILED and not rec.blue_retiring:
                rec.move_to(State.ROLLING_BACK, self.turns.now(), "rollback tried again")
                member.deployer.store.save(rec)
        return [Drive(m, recs[m.name]) for m in self.members if not recs[m.name].state.terminal]

    def _start_rollbacks(self, recs: dict[str, DeploymentRecord], request: Request) -> None:
        """Every service still on its way starts back to blue (its record saved)."""
        for member in self.members:
            rec = recs[member.name]
            if not rec.state.terminal:
                start_rollback(member.deployer.store, rec, request, self.turns.now())

    def _drive(
        self,
        record: ReleaseRecord,
        drives: list[Drive],
        on_event: ReleaseEventSink | None,
        recs: dict[str, DeploymentRecord] | None = None,
        *,
        detach_at_pause: bool = False,
    ) -> None:
        def commit() -> None:
            record.state = ReleaseState.COMMITTED
            record.note(self.turns.now(), "every service ready to retire its blue: committed")
            self.store.save(record)

        def failed(name: str, reason: str) -> None:
            record.failed_member, record.reason = name, reason
            record.note(self.turns.now(), f"{name} failed: every service goes back to blue")
            self.store.save(record)

        coordinator = Coordinator(record.members, self.turns, on_commit=commit, on_failure=failed)
        coordinator.committed = record.state is ReleaseState.COMMITTED
        for rec in (recs or {}).values():
            coordinator.resume_from(rec)
        drive(drives, self.turns, coordinator, on_event, detach_at_pause)
        if record.failed_member and record.state is ReleaseState.RUNNING:
            recs = self._records(record)
            if any(r.detached and not r.state.terminal for r in recs.values()):
                # they had detached at the pause before another failed: back to blue too
                self._drive(record, self._drives_on(record, recs), on_event, recs)

    def _result(self, record: ReleaseRecord, kept: list[str]) -> ReleaseResult:
        recs = self._records(record)
        ended = conclusion(recs)
        if ended is not None and not record.state.terminal:
            record.end(ended, self.turns.now(), f"release {ended.value}")
            self.store.save(record)
        cloud = self._shared_cloud()
        members = {n: DeploymentResult(r, final_weights(cloud, r)) for n, r in recs.items()}
        return returned_or_raised(ReleaseResult(record, members, tuple(kept)))

    def _ask_and_wait(self, record: ReleaseRecord, request: Request) -> ReleaseResult:
        for member in self.members:
            rec = self._load(member, record)
            if not rec.state.terminal:
                member.deployer.store.post_request(rec.service_key, rec.id, request)
        clock = self.turns.base
        give_up = clock.now() + ANSWER_WAIT_SECONDS
        while clock.now() < give_up:
            if all(r.state.terminal for r in self._records(record).values()):
                break
            clock.sleep(1.0)
        return self._result(latest_release(self.store, self.name), [])


def _gone_back(rec: DeploymentRecord) -> bool:
    return rec.state in (State.ROLLING_BACK, State.ROLLED_BACK, State.STOPPED, State.FAILED)


__all__ = ["Release", "ReleasePlan", "ReleaseResult", "ReleaseStatus"]
