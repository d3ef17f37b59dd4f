"""`bluegreen release` on the sandbox: several services, one release, all or nothing."""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path

import boto3
import pytest
from release_world import NEW_IMAGE, ReleaseWorld, release_world

from bluegreen.errors import CleanupIncomplete, DeploymentFailed, LockHeldError, UsageError
from bluegreen.machine import State
from bluegreen.record import DeploymentRecord, Event, Request
from bluegreen.release import Release
from bluegreen.release_record import ReleaseRecord, ReleaseState
from bluegreen.sandbox import Sandbox
from bluegreen.sandbox.world import AppModel

POLL_SECONDS = 5.0  # the stacks' health.poll_interval
ALL_GREEN = {"blue": 0, "green": 100}
ALL_BLUE = {"blue": 100, "green": 0}


@pytest.fixture
def world(sandbox: Sandbox, tmp_path: Path) -> ReleaseWorld:
    return release_world(sandbox, tmp_path, ["api", "web", "worker"])


def test_a_release_moves_every_service_to_green_and_retires_every_blue(
    world: ReleaseWorld,
) -> None:
    result = world.release().run()

    assert result.state is ReleaseState.SUCCEEDED
    for name in world.stacks:
        assert world.weights(name) == [ALL_GREEN, ALL_GREEN]
        rec = result.members[name].record
        assert rec.state is State.SUCCEEDED
        assert rec.release_id == result.release_id
        assert rec.images == {"web": NEW_IMAGE}


def test_a_release_keeps_under_aws_api_limits_rather_than_being_throttled(
    world: ReleaseWorld, sandbox: Sandbox
) -> None:
    sandbox.api_limits.reset()

    world.release().run()

    report = sandbox.api_limits.report()
    assert report.requests("elasticloadbalancing") > 40  # more than one burst's worth...
    assert report.throttled() == 0  # ...yet paced: AWS never had to refuse one


def test_every_service_is_at_the_same_stage_whenever_traffic_moves(world: ReleaseWorld) -> None:
    result = world.release().run()

    def shifts(name: str) -> list[tuple[float, int]]:
        rec = result.members[name].record
        return [
            (e.at, int(e.message.split(": ")[1].split("%")[0]))
            for e in rec.events
            if e.message.startswith("step ")
        ]

    moves = {name: shifts(name) for name in world.stacks}
    assert len({tuple(w for _, w in m) for m in moves.values()}) == 1, moves  # same weights
    stages = list(zip(*moves.values(), strict=True))  # each stage: every service's move
    for stage, following in itertools.pairwise(stages):
        assert max(at for at, _ in stage) < min(at for at, _ in following)  # none runs ahead
    for stage in stages:  # together: within a poll (AWS's API limits pace the calls)
        assert max(at for at, _ in stage) - min(at for at, _ in stage) < POLL_SECONDS, stage


BROKEN = "public.ecr.aws/bluegreen/demo-web:2.0.1-broken"


@pytest.mark.parametrize(
    "broken",
    [AppModel(hangs=True), AppModel(crashes_after=150)],
    ids=["never-healthy", "crashes-while-shifting"],
)
def test_one_service_failing_puts_every_service_back_on_blue(
    world: ReleaseWorld, sandbox: Sandbox, broken: AppModel
) -> None:
    sandbox.apps[BROKEN] = broken
    release = world.release(world.write([{"name": "worker", "images": {"web": BROKEN}}]))

    with pytest.raises(DeploymentFailed) as failed:
        release.run()

    result = failed.value.result  # type: ignore[attr-defined]
    assert result.state is ReleaseState.ROLLED_BACK
    assert result.record.failed_member == "worker"
    for name in world.stacks:
        assert world.weights(name) == [ALL_BLUE, ALL_BLUE]
        assert result.members[name].record.state is State.ROLLED_BACK


def test_a_release_that_cannot_take_every_lock_takes_none(world: ReleaseWorld) -> None:
    release = world.release()
    web = next(m for m in release.members if m.name == "web")
    held = web.deployer.store.acquire_lock(web.service_key, "bg-20260101T000000Z-abcdef")
    try:
        with pytest.raises(LockHeldError, match="web") as refused:
            release.run()
    finally:
        held.release()
    assert refused.value.exit_code == 4
    for member in release.members:
        if member.name != "web":
            assert member.deployer.store.lock_holder(member.service_key) is None
    assert release.history() == []


def test_after_and_shift_after_order_the_services(sandbox: Sandbox, tmp_path: Path) -> None:
    world = release_world(sandbox, tmp_path, ["api", "web"])
    path = world.write([{"name": "web", "after": ["api"], "shift_after": ["api"]}])

    result = world.release(path).run()

    api, web = (result.members[n].record for n in ("api", "web"))
    assert _first(web, "created green task set") >= _first(api, "green is healthy")
    assert _first(web, "step 1/2") >= _first(api, "step 2/2")
    assert _first(api, "step 2/2") > _first(api, "step 1/2")
    assert result.state is ReleaseState.SUCCEEDED
    assert world.weights("web") == [ALL_GREEN, ALL_GREEN]


def _first(rec: DeploymentRecord, prefix: str) -> float:
    return next(e.at for e in rec.events if e.message.startswith(prefix))


def test_promote_of_the_release_moves_every_paused_service_on(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    steps = [{"weight": 25, "pause": True}, {"weight": 100}]
    world = release_world(sandbox, tmp_path, ["api", "web"])
    path = world.write(strategy={"type": "steps", "steps": steps})
    asked: list[list[str]] = []
    paused: set[str] = set()

    def on_event(name: str, event: Event) -> None:
        if event.message.startswith("paused at 25%"):
            paused.add(name)
            if paused == {"api", "web"} and not asked:  # another process's `promote`
                asked.append(Release.from_file(path, clock=sandbox.clock).promote())

    result = Release.from_file(path, clock=sandbox.clock).run(on_event=on_event)

    assert asked == [["api", "web"]]
    assert result.state is ReleaseState.SUCCEEDED
    for name in ("api", "web"):
        promotions = result.members[name].record.promotions
        assert [p.during for p in promotions] == ["paused at 25%"]
        assert world.weights(name) == [ALL_GREEN, ALL_GREEN]


def test_promote_without_a_paused_service_is_refused(world: ReleaseWorld) -> None:
    release = world.release()
    release.run()
    with pytest.raises(UsageError, match="nothing to promote"):
        release.promote()


NOTHING_HELD = {
    "DynamicScalingInSuspended": False,
    "DynamicScalingOutSuspended": False,
    "ScheduledScalingSuspended": False,
}


@pytest.mark.parametrize("fails", [False, True], ids=["succeeds", "one-fails"])
def test_every_service_s_auto_scaling_is_held_during_a_release_and_restored(
    world: ReleaseWorld, sandbox: Sandbox, fails: bool
) -> None:
    scaling = boto3.client("application-autoscaling", region_name="us-east-1")
    resources = []
    for stack in world.stacks.values():
        resources.append(f"service/{stack.cluster}/{stack.service}")
        scaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=resources[-1],
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=1,
            MaxCapacity=8,
            SuspendedState=NOTHING_HELD,
        )
    held_during: list[bool] = []

    def on_event(name: str, event: Event) -> None:
        if event.message.startswith("step 1/2") and name == "worker":
            targets = scaling.describe_scalable_targets(
                ServiceNamespace="ecs", ResourceIds=resources
            )["ScalableTargets"]
            held_during.extend(t["SuspendedState"]["DynamicScalingInSuspended"] for t in targets)

    sandbox.apps[BROKEN] = AppModel(crashes_after=150)
    broken = [{"name": "worker", "images": {"web": BROKEN}}] if fails else []
    release = world.release(world.write(broken))
    with contextlib.suppress(DeploymentFailed):
        release.run(on_event=on_event)

    assert held_during == [True, True, True]
    after = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=resources)
    assert [t["SuspendedState"] for t in after["ScalableTargets"]] == [NOTHING_HELD] * 3


def test_a_blue_that_cannot_be_retired_names_each_service_s_resume_that_retires_it(
    world: ReleaseWorld, sandbox: Sandbox
) -> None:
    denied = sandbox.faults.fail("DeleteTaskSet", status=400, code="AccessDeniedException")

    with pytest.raises(CleanupIncomplete) as left:
        world.release().run()

    assert left.value.exit_code == 3
    result = left.value.result  # type: ignore[attr-defined]
    assert result.state is ReleaseState.SUCCEEDED  # green serves everywhere
    for name in world.stacks:
        assert f"bluegreen resume --config {name}/bluegreen.toml" in left.value.hint
    sandbox.faults.remove(denied)
    api = next(m for m in world.release().members if m.name == "api")
    assert api.deployer.resume().record.cleanup_left is None  # the command said does it


def test_a_service_failing_in_its_termination_wait_puts_every_service_back(
    world: ReleaseWorld, sandbox: Sandbox
) -> None:
    # Blues are retired only once every service is past its termination wait: one failing
    # there (its green at 100 %, green primary) must not leave the others on green alone.
    sandbox.apps[BROKEN] = AppModel(crashes_after=265)
    release = world.release(world.write([{"name": "worker", "images": {"web": BROKEN}}]))

    with pytest.raises(DeploymentFailed) as failed:
        release.run()

    result = failed.value.result  # type: ignore[attr-defined]
    assert result.members["worker"].record.failed_in is State.CLEANING_UP
    for name in world.stacks:
        assert result.members[name].record.state is State.ROLLED_BACK
        assert world.weights(name) == [ALL_BLUE, ALL_BLUE]


def test_services_polling_faster_than_the_account_allows_are_warned_and_still_released(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # 3 services × a read every 0.3 s = 10 target-health reads a second: more than
    # bluegreen's share of ELB's account limit (7.5 a second)
    world = release_world(
        sandbox, tmp_path, ["api", "web", "worker"], health={"poll_interval": "0.3s"}
    )
    release = world.release()

    (warning,) = [line for line in release.plan().order if line.startswith("warning:")]
    assert "every 0.3s" in warning and "read about every 0.4s" in warning
    assert "set health.poll_interval to 1s or more" in warning

    result = release.run()
    assert result.state is ReleaseState.SUCCEEDED
    assert any("read about every 0.4s" in w for w in result.warnings)
    assert any("read about every 0.4s" in n.message for n in result.record.events)


def test_a_service_whose_poll_fails_as_the_release_commits_goes_forward_with_the_others(
    world: ReleaseWorld,
) -> None:
    # The last service to arrive at the commit wakes the others, whose poll reads requests
    # and gates before it looks at the commit: what it finds there no longer sends one
    # service back alone — past the commit every service goes forward.
    release = world.release()
    save = release.store.save

    def save_and_ask_back(record: ReleaseRecord) -> None:
        save(record)
        if record.state is ReleaseState.COMMITTED:
            for member in release.members:
                rec = member.deployer.store.latest(member.service_key)
                assert rec is not None
                request = Request(kind="rollback", reason="too late", at=record.updated_at)
                member.deployer.store.post_request(rec.service_key, rec.id, request)

    release.store.save = save_and_ask_back  # type: ignore[method-assign]

    result = release.run()

    assert result.state is ReleaseState.SUCCEEDED
    for name in world.stacks:
        assert result.members[name].record.state is State.SUCCEEDED
        assert world.weights(name) == [ALL_GREEN, ALL_GREEN]
