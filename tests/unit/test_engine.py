"""The engine on in-memory fakes and a virtual clock: transitions, hooks, gates, rollback."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest
import recording_hooks
from fakes import BLUE, GREEN, HTTP, HTTPS, TEST, World, replace_health
from signal_helpers import signal_once_started
from structlog.testing import capture_logs

from bluegreen.clock import VirtualClock
from bluegreen.deployer import Deployer
from bluegreen.engine.interrupts import Interrupted
from bluegreen.errors import (
    AwsError,
    ConflictError,
    DeploymentFailed,
    DeploymentStopped,
    GateFailed,
    HealthCheckFailed,
    HookFailed,
    LockHeldError,
    PreflightError,
    RollbackFailed,
    TimeoutExceeded,
    UsageError,
)
from bluegreen.machine import State
from bluegreen.model import AlarmState, HealthState, TargetHealth, TaskSetStatus
from bluegreen.record import DeploymentRecord, Event, Request

V2 = {"web": "repo/web:v2"}
MakeDeployer = Callable[..., Deployer]


def states(deployer: Deployer) -> list[str]:
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    seen: list[str] = []
    for event in rec.events:
        if not seen or seen[-1] != event.state.value:
            seen.append(event.state.value)
    return seen


def assert_on_blue(world: World) -> None:
    assert world.weights(HTTP) == {BLUE: 100, GREEN: 0}
    assert world.weights(HTTPS) == {BLUE: 100, GREEN: 0}
    assert [ts.target_group for ts in world.task_sets.values()] == [BLUE]
    assert world.violations == []


def test_success_moves_every_listener_through_the_steps(
    make_deployer: MakeDeployer, world: World
) -> None:
    result = make_deployer().deploy(V2)

    assert result.outcome == "succeeded" and result.exit_code == 0
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 0, GREEN: 100}
    (green,) = world.task_sets.values()
    assert green.target_group == GREEN and green.status is TaskSetStatus.PRIMARY
    assert (
        world.task_definitions[green.task_definition]["containerDefinitions"][0]["image"]
        == "repo/web:v2"
    )
    http_writes = [w[GREEN] for _, ref, w in world.writes if ref == HTTP]
    https_writes = [w[GREEN] for _, ref, w in world.writes if ref == HTTPS]
    assert http_writes == https_writes == [10, 50, 100]
    assert world.violations == []


def test_every_state_is_visited_in_order(make_deployer: MakeDeployer) -> None:
    deployer = make_deployer()
    deployer.deploy(V2)
    assert states(deployer) == [
        "PENDING",
        "PREFLIGHT",
        "PROVISIONING",
        "WAITING_HEALTHY",
        "SHIFTING",
        "BAKING",
        "CLEANING_UP",
        "SUCCEEDED",
    ]


def test_hooks_run_at_every_event_in_order(make_deployer: MakeDeployer) -> None:
    make_deployer().deploy(V2)
    events = [c["event"] for c in recording_hooks.CALLS]
    assert events == [
        "pre_provision",
        "post_provision",
        "pre_shift",
        "post_shift",
        "pre_shift",
        "post_shift",
        "pre_shift",
        "post_shift",
        "pre_cleanup",
        "on_success",
        "finally",
    ]
    shift = [c for c in recording_hooks.CALLS if c["event"] == "pre_shift"]
    assert [c["to_weight"] for c in shift] == [10, 50, 100]
    assert all(c["deployment_id"].startswith("bg-") for c in recording_hooks.CALLS)


def test_bakes_take_virtual_time_only(make_deployer: MakeDeployer, clock: VirtualClock) -> None:
    start = clock.now()
    make_deployer().deploy(V2)
    # start 20s + health 30s, two 1m bakes, 2m bake after shift, 1m termination wait
    assert 50 + 60 + 60 + 120 + 60 <= clock.now() - start <= 50 + 300 + 30


def test_green_never_healthy_rolls_back_with_reason_and_path(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.behaviour["repo/web:v2"] = "unhealthy"
    with pytest.raises(HealthCheckFailed) as caught:
        make_deployer().deploy(V2)
    message = str(caught.value)
    assert "Target.ResponseCodeMismatch" in message and "/health" in message and "200" in message
    assert caught.value.exit_code == 1
    assert caught.value.result.outcome == "rolled_back"  # type: ignore[attr-defined]
    assert_on_blue(world)
    assert [c["event"] for c in recording_hooks.CALLS][-2:] == ["on_rollback", "finally"]


def test_green_turning_unhealthy_mid_shift_rolls_back(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.behaviour["repo/web:v2"] = ("unhealthy_after", 40)
    with pytest.raises(GateFailed, match="unhealthy"):
        make_deployer().deploy(V2)
    assert any(w[GREEN] == 10 for _, _, w in world.writes)  # it had started shifting
    assert_on_blue(world)


def test_alarm_firing_at_step_two_rolls_back(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    world.alarms["web-5xx"] = AlarmState.OK

    def fire(_now: float) -> None:
        if world.routes[HTTP].get(GREEN) == 50:
            world.alarms["web-5xx"] = AlarmState.ALARM

    clock.on_advance(fire)
    with pytest.raises(GateFailed, match="web-5xx"):
        make_deployer(gates={"alarms": ["web-5xx"]}).deploy(V2)
    assert_on_blue(world)


def test_missing_alarm_stops_before_any_change(make_deployer: MakeDeployer, world: World) -> None:
    with pytest.raises(PreflightError, match="nope") as caught:
        make_deployer(gates={"alarms": ["nope"]}).deploy(V2)
    assert caught.value.exit_code == 2
    assert world.writes == [] and "CreateTaskSet" not in world.calls


@pytest.mark.parametrize("event", ["post_provision", "pre_shift", "post_shift", "pre_cleanup"])
def test_a_failing_hook_rolls_back(make_deployer: MakeDeployer, world: World, event: str) -> None:
    recording_hooks.FAIL_AT.add(event)
    with pytest.raises(HookFailed, match=event):
        make_deployer().deploy(V2)
    assert_on_blue(world)


def test_a_failing_pre_provision_hook_stops_with_nothing_to_undo(
    make_deployer: MakeDeployer, world: World
) -> None:
    recording_hooks.FAIL_AT.add("pre_provision")
    with pytest.raises(DeploymentStopped) as caught:
        make_deployer().deploy(V2)
    assert caught.value.exit_code == 1
    assert "CreateTaskSet" not in world.calls and "RegisterTaskDefinition" not in world.calls
    assert_on_blue(world)


@pytest.mark.parametrize("event", ["on_pause", "on_success", "finally"])
def test_a_failing_informational_hook_is_only_logged(
    make_deployer: MakeDeployer, event: str
) -> None:
    recording_hooks.FAIL_AT.add(event)
    steps = [{"weight": 50, "pause": True}, {"weight": 100}]
    deployer = make_deployer(strategy={"type": "steps", "steps": steps})
    result = deployer.deploy(V2, detach_at_pause=True)
    if result.outcome == "paused":
        result = deployer.promote()
    assert result.outcome == "succeeded"


def test_pause_detaches_then_promote_finishes(make_deployer: MakeDeployer, world: World) -> None:
    steps = [{"weight": 20, "bake": "1m"}, {"weight": 50, "pause": True}, {"weight": 100}]
    deployer = make_deployer(strategy={"type": "steps", "steps": steps})
    paused = deployer.deploy(V2, detach_at_pause=True)
    assert paused.outcome == "paused" and paused.exit_code == 0
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 50, GREEN: 50}
    done = deployer.promote()
    assert done.outcome == "succeeded"
    assert world.weights(HTTP) == {BLUE: 0, GREEN: 100}
    assert [c["event"] for c in recording_hooks.CALLS].count("on_pause") == 1


def test_promote_full_skips_remaining_steps(make_deployer: MakeDeployer, world: World) -> None:
    steps = [
        {"weight": 10, "pause": True},
        {"weight": 30, "bake": "1h"},
        {"weight": 60, "bake": "1h"},
        {"weight": 100},
    ]
    deployer = make_deployer(strategy={"type": "steps", "steps": steps})
    deployer.deploy(V2, detach_at_pause=True)
    deployer.promote(full=True)
    assert [w[GREEN] for _, ref, w in world.writes if ref == HTTP] == [10, 100]


def test_waiting_pause_takes_promote_request(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    steps = [{"weight": 50, "pause": True}, {"weight": 100}]
    deployer = make_deployer(strategy={"type": "steps", "steps": steps})

    def promote_when_paused(_now: float) -> None:
        rec = deployer.store.latest(deployer.config.service_key)
        if rec and rec.state is State.PAUSED:
            deployer.store.post_request(rec.service_key, rec.id, Request(kind="promote"))

    clock.on_advance(promote_when_paused)
    assert deployer.deploy(V2).outcome == "succeeded"


def test_pause_timeout_rolls_back_by_default(make_deployer: MakeDeployer, world: World) -> None:
    steps = [{"weight": 50, "pause": True}, {"weight": 100}]
    deployer = make_deployer(strategy={"type": "steps", "steps": steps, "pause_timeout": "10m"})
    with pytest.raises(Exception, match="pause timed out"):
        deployer.deploy(V2)
    assert_on_blue(world)


def test_pause_timeout_can_continue(make_deployer: MakeDeployer) -> None:
    steps = [{"weight": 50, "pause": True}, {"weight": 100}]
    strategy = {
        "type": "steps",
        "steps": steps,
        "pause_timeout": "10m",
        "on_pause_timeout": "continue",
    }
    assert make_deployer(strategy=strategy).deploy(V2).outcome == "succeeded"


@pytest.mark.parametrize(
    "state", ["PROVISIONING", "WAITING_HEALTHY", "SHIFTING", "PAUSED", "BAKING", "CLEANING_UP"]
)
def test_rollback_from_each_state(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock, state: str
) -> None:
    steps = [{"weight": 10, "bake": "1m"}, {"weight": 50, "pause": True}, {"weight": 100}]
    deployer = make_deployer(strategy={"type": "steps", "steps": steps})

    def request_rollback(_now: float) -> None:
        rec = deployer.store.latest(deployer.config.service_key)
        if rec and rec.state.value == state:
            deployer.store.post_request(
                rec.service_key, rec.id, Request(kind="rollback", reason="test", by="alice")
            )

    def promote(_now: float) -> None:
        rec = deployer.store.latest(deployer.config.service_key)
        if rec and rec.state is State.PAUSED and state != "PAUSED":
            deployer.store.post_request(rec.service_key, rec.id, Request(kind="promote"))

    clock.on_advance(request_rollback)
    clock.on_advance(promote)
    if state == "PROVISIONING":  # no time passes there: fail its AWS call instead
        world.fail["CreateTaskSet"] = lambda: AwsError(
            "CreateTaskSet", "ServerException", "rollback requested"
        )
    with pytest.raises(Exception, match="rollback requested"):
        deployer.deploy(V2)
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None and rec.state is State.ROLLED_BACK and rec.failed_in == State(state)
    assert rec.rollback_by == (None if state == "PROVISIONING" else "alice")  # who asked
    assert world.task_sets["ecs-svc/blue"].status is TaskSetStatus.PRIMARY
    assert_on_blue(world)


def test_rollback_of_a_detached_pause_from_the_api(
    make_deployer: MakeDeployer, world: World
) -> None:
    steps = [{"weight": 30, "pause": True}, {"weight": 100}]
    deployer = make_deployer(strategy={"type": "steps", "steps": steps})
    deployer.deploy(V2, detach_at_pause=True)
    result = deployer.rollback(reason="bad canary")
    assert result.outcome == "rolled_back" and "bad canary" in (result.reason or "")
    assert_on_blue(world)


def test_rollback_refuses_a_blue_with_no_healthy_target(
    make_deployer: MakeDeployer, world: World
) -> None:
    steps = [{"weight": 30, "pause": True}, {"weight": 100}]
    deployer = make_deployer(strategy={"type": "steps", "steps": steps})
    deployer.deploy(V2, detach_at_pause=True)
    replace_health(world, BLUE, HealthState.UNHEALTHY, "Target.Timeout")
    with pytest.raises(RollbackFailed) as caught:
        deployer.rollback()
    assert caught.value.exit_code == 3
    text = str(caught.value)
    assert "no healthy target" in text and "listener arn:listener/http: blue=70, green=30" in text
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 70, GREEN: 30}
    assert world.violations == []


def test_a_failed_listener_write_restores_the_others_then_rolls_back(
    make_deployer: MakeDeployer, world: World
) -> None:
    writes = {"n": 0}

    def second_write_fails() -> Exception | None:
        writes["n"] += 1
        return AwsError("ModifyListener", "ValidationError", "boom") if writes["n"] == 2 else None

    world.fail["ModifyListener"] = second_write_fails
    with pytest.raises(Exception, match="boom"):
        make_deployer().deploy(V2)
    assert [w for _, ref, w in world.writes if ref == HTTP] == [
        {BLUE: 90, GREEN: 10},
        {BLUE: 100, GREEN: 0},
    ]
    assert_on_blue(world)


def test_deployment_timeout_rolls_back(make_deployer: MakeDeployer, world: World) -> None:
    with pytest.raises(TimeoutExceeded):
        make_deployer(timeout="2m").deploy(V2)
    assert_on_blue(world)


def test_resume_after_a_crash_mid_shift(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    class Killed(BaseException):
        pass

    deployer = make_deployer()

    def kill_at_step_two(_now: float) -> None:
        if world.routes[HTTP].get(GREEN) == 50:
            raise Killed

    clock.on_advance(kill_at_step_two)
    with pytest.raises(Killed):
        deployer.deploy(V2)
    clock._listeners.remove(kill_at_step_two)
    result = deployer.resume()
    assert result.outcome == "succeeded"
    assert world.weights(HTTP) == {BLUE: 0, GREEN: 100}
    assert len(world.task_sets) == 1 and world.violations == []


def test_listeners_that_disagree_stop_before_any_change(
    make_deployer: MakeDeployer, world: World
) -> None:
    world.routes[HTTPS] = {BLUE: 0, GREEN: 100}
    with pytest.raises(PreflightError, match="disagree") as caught:
        make_deployer().deploy(V2)
    assert caught.value.exit_code == 2 and world.writes == []


def test_a_split_with_no_record_stops(make_deployer: MakeDeployer, world: World) -> None:
    world.routes[HTTP] = world.routes[HTTPS] = {BLUE: 80, GREEN: 20}
    with pytest.raises(ConflictError, match="status"):
        make_deployer().deploy(V2)
    assert world.writes == []


def test_colours_alternate(make_deployer: MakeDeployer, world: World) -> None:
    make_deployer().deploy(V2)
    make_deployer().deploy({"web": "repo/web:v3"})
    assert world.weights(HTTP) == {BLUE: 100, GREEN: 0}
    (live,) = world.task_sets.values()
    assert live.target_group == BLUE


def test_a_non_external_service_is_refused(make_deployer: MakeDeployer, world: World) -> None:
    world.controller = "CODE_DEPLOY"
    with pytest.raises(PreflightError, match="CodeDeploy"):
        make_deployer().deploy(V2)


def test_unknown_container_in_image_is_a_usage_error(
    make_deployer: MakeDeployer, world: World
) -> None:
    with pytest.raises(Exception, match="does not have") as caught:
        make_deployer().deploy({"nginx": "x"})
    assert caught.value.exit_code == 2  # type: ignore[attr-defined]
    assert "CreateTaskSet" not in world.calls


def test_nothing_to_deploy_is_a_usage_error(make_deployer: MakeDeployer) -> None:
    with pytest.raises(UsageError):
        make_deployer().deploy({})


def test_a_second_deployment_while_one_is_paused_is_refused(make_deployer: MakeDeployer) -> None:
    steps = [{"weight": 30, "pause": True}, {"weight": 100}]
    deployer = make_deployer(strategy={"type": "steps", "steps": steps})
    paused = deployer.deploy(V2, detach_at_pause=True)
    with pytest.raises(LockHeldError, match="PAUSED") as caught:
        deployer.deploy(V2)
    assert caught.value.exit_code == 4 and paused.deployment_id in caught.value.message


def test_a_held_lock_exits_4_naming_the_holder(make_deployer: MakeDeployer) -> None:
    deployer = make_deployer()
    deployer.store.acquire_lock(deployer.config.service_key, "bg-other")
    with pytest.raises(LockHeldError, match="bg-other") as caught:
        deployer.deploy(V2)
    assert caught.value.exit_code == 4


def test_secrets_never_reach_the_record(make_deployer: MakeDeployer) -> None:
    deployer = make_deployer()
    deployer.deploy(V2)
    folder = deployer.config.base_dir / ".bluegreen"
    assert all("hunter2-secret" not in p.read_text() for p in folder.rglob("*.json"))


def test_test_listener_goes_to_green_before_production(
    make_deployer: MakeDeployer, world: World
) -> None:
    deployer = make_deployer(test_listener={"arn": "arn:listener/test"})
    deployer.deploy(V2)
    first_test = next(i for i, (_, ref, _) in enumerate(world.writes) if ref == TEST)
    first_prod = next(i for i, (_, ref, _) in enumerate(world.writes) if ref == HTTP)
    assert first_test < first_prod
    assert world.weights(TEST) == {BLUE: 0, GREEN: 100}
    events = [c["event"] for c in recording_hooks.CALLS]
    assert events.index("post_test_traffic") < events.index("pre_shift")
    assert "TEST_TRAFFIC" in states(deployer)


def test_a_failing_smoke_test_puts_the_test_listener_back(
    make_deployer: MakeDeployer, world: World
) -> None:
    recording_hooks.FAIL_AT.add("post_test_traffic")
    with pytest.raises(HookFailed, match="post_test_traffic"):
        make_deployer(test_listener={"arn": "arn:listener/test"}).deploy(V2)
    assert world.weights(TEST) == {BLUE: 100, GREEN: 0}
    assert not [w for _, ref, w in world.writes if ref == HTTP]  # production never moved
    assert_on_blue(world)


def test_command_hook_output_never_shows_task_definition_secrets(
    make_deployer: MakeDeployer, capsys: pytest.CaptureFixture[str]
) -> None:
    deployer = make_deployer(hooks=[{"event": "post_provision", "command": ["cat", "out.txt"]}])
    (deployer.config.base_dir / "out.txt").write_text("db=hunter2-secret\n")
    deployer.deploy(V2)
    captured = capsys.readouterr()
    assert "db=" in captured.out + captured.err
    assert "hunter2-secret" not in captured.out + captured.err


def test_history_lists_past_deployments_newest_first(
    make_deployer: MakeDeployer, world: World
) -> None:
    deployer = make_deployer()
    first = deployer.deploy(V2)
    world.behaviour["repo/web:v3"] = "unhealthy"
    with pytest.raises(HealthCheckFailed):
        deployer.deploy({"web": "repo/web:v3"})
    outcomes = [(r.id, r.outcome) for r in deployer.history()]
    assert outcomes[1] == (first.deployment_id, "succeeded")
    assert outcomes[0][1] == "rolled_back"


def test_plan_during_a_paused_deployment_names_it(make_deployer: MakeDeployer) -> None:
    steps = [{"weight": 30, "pause": True}, {"weight": 100}]
    deployer = make_deployer(strategy={"type": "steps", "steps": steps})
    paused = deployer.deploy(V2, detach_at_pause=True)
    with pytest.raises(LockHeldError, match=paused.deployment_id) as caught:
        deployer.plan(V2)
    assert caught.value.exit_code == 4


def test_plan_is_read_only_and_lists_every_step(make_deployer: MakeDeployer, world: World) -> None:
    plan = make_deployer(test_listener={"arn": "arn:listener/test"}).plan(V2)
    assert world.writes == [] and "CreateTaskSet" not in world.calls
    actions = [s.action for s in plan.steps]
    assert actions.index("route test listener to green") < actions.index("shift step 1/3")
    assert plan.blue == "web-blue" and plan.green == "web-green"
    assert plan.minimum_seconds == 60 + 60 + 120 + 60


def test_every_text_of_the_plan_is_redacted(make_deployer: MakeDeployer) -> None:
    # Not only hook names: whatever the plan shows passes through the logs' redaction.
    plan = make_deployer().plan({"web": "repo/web:2#DB_PASSWORD=hunter2secret"})
    assert "hunter2secret" not in str(plan.to_dict())
    assert plan.release == "web=repo/web:2#DB_PASSWORD=***"
    assert "DB_PASSWORD=***" in next(s.detail for s in plan.steps if "register" in s.action)


def _signal_at_fifty_percent(clock: VirtualClock, world: World, signum: int) -> None:
    sent: list[bool] = []

    def send(_now: float) -> None:
        if world.routes[HTTP].get(GREEN) == 50 and not sent:
            sent.append(True)
            os.kill(os.getpid(), signum)

    clock.on_advance(send)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_stage_rolls_back_after_the_call_in_progress(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock, signum: int
) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    _signal_at_fifty_percent(clock, world, signum)
    with pytest.raises(DeploymentFailed, match=f"interrupted by {signal.Signals(signum).name}"):
        make_deployer().deploy(V2)
    assert_on_blue(world)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_on_interrupt_leave_keeps_the_deployment_resumable(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    _signal_at_fifty_percent(clock, world, signal.SIGTERM)
    deployer = make_deployer(on_interrupt="leave")
    with pytest.raises(Interrupted, match="left in SHIFTING at 50% green") as caught:
        deployer.deploy(V2)
    assert "bluegreen resume" in (caught.value.hint or "")
    assert caught.value.exit_code == 1
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 50, GREEN: 50}
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None and rec.state is State.SHIFTING and rec.outcome == "interrupted"

    assert deployer.resume().outcome == "succeeded"
    assert world.weights(HTTP) == {BLUE: 0, GREEN: 100} and world.violations == []


@pytest.mark.parametrize(
    ("on_interrupt", "outcome", "task_sets"),
    [("rollback", "rolled_back", [BLUE]), ("leave", "interrupted", [BLUE, GREEN])],
)
def test_a_signal_during_a_long_hook_stops_it_at_once(
    make_deployer: MakeDeployer,
    world: World,
    on_interrupt: str,
    outcome: str,
    task_sets: list[str],
) -> None:
    # The handler only sets a flag; the hook runner sees it within a poll and kills the hook,
    # instead of waiting out its timeout. Then the signal decides: roll back, or leave.
    long_hook = "echo running > started; exec sleep 600"
    hook = {"event": "post_provision", "command": [long_hook], "shell": True, "timeout": "20s"}
    deployer = make_deployer(hooks=[hook], on_interrupt=on_interrupt)
    started = time.monotonic()
    signal_once_started(deployer.config.base_dir / "started", signal.SIGTERM)
    with pytest.raises(DeploymentFailed, match="interrupted by SIGTERM"):
        deployer.deploy(V2)

    assert time.monotonic() - started < 10
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None and rec.outcome == outcome
    # No traffic had moved: blue serves either way; green is kept only to be resumed.
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}
    assert [ts.target_group for ts in world.task_sets.values()] == task_sets


@pytest.mark.parametrize("killed_in", ["PREFLIGHT", "PROVISIONING", "WAITING_HEALTHY", "SHIFTING"])
def test_rollback_of_a_dead_deployment_goes_straight_back(
    make_deployer: MakeDeployer, world: World, killed_in: str
) -> None:
    class Killed(BaseException):
        pass

    def die_on_entering(event: Event) -> None:
        if event.state.value == killed_in and event.message.startswith("entered"):
            raise Killed

    deployer = make_deployer()
    with pytest.raises(Killed):
        deployer.deploy(V2, on_event=die_on_entering)
    calls_before = len(world.calls)

    result = deployer.rollback(reason="the pipeline died")

    after = world.calls[calls_before:]
    assert "CreateTaskSet" not in after and "RegisterTaskDefinition" not in after
    assert result.state in (State.ROLLED_BACK, State.STOPPED)
    assert_on_blue(world)


# --- gates during a stage: issue 9 item 4 --------------------------------------------------


def latest(deployer: Deployer) -> DeploymentRecord:
    rec = deployer.store.latest(deployer.config.service_key)
    assert rec is not None
    return rec


def latest_of(make_deployer: MakeDeployer) -> DeploymentRecord:
    """The newest record in the store the deployers of this test share."""
    return latest(make_deployer())


def _draining(world: World) -> None:
    replace_health(world, GREEN, HealthState.DRAINING, "Target.DeregistrationInProgress")


def _gone(world: World) -> None:
    world.targets[GREEN] = {}


def _one_unhealthy(world: World) -> None:
    first = sorted(world.targets[GREEN])[0]
    world.targets[GREEN][first] = TargetHealth(
        first, 8080, HealthState.UNHEALTHY, "Target.ResponseCodeMismatch"
    )


GREEN_GOES_WRONG = {
    "all draining": (_draining, "0 healthy, 0 unhealthy"),
    "all deregistered": (_gone, "0 healthy, 0 unhealthy"),
    "one of two unhealthy": (_one_unhealthy, "1 healthy, 1 unhealthy"),
}


@pytest.mark.parametrize(("weight", "failed_in"), [(10, State.SHIFTING), (100, State.BAKING)])
@pytest.mark.parametrize("what", list(GREEN_GOES_WRONG))
def test_green_losing_targets_during_a_stage_rolls_back_at_that_stage(
    make_deployer: MakeDeployer,
    world: World,
    clock: VirtualClock,
    what: str,
    weight: int,
    failed_in: State,
) -> None:
    """Kills, in gates.green_still_healthy: `or health.healthy_count == 0` dropped (draining,
    deregistered), and `if unhealthy or …` → `if unhealthy == len(health.targets) or …`
    / `if unhealthy and …` (one of two unhealthy)."""
    change, counts = GREEN_GOES_WRONG[what]

    def while_green_has_weight(_now: float) -> None:
        if world.routes[HTTP].get(GREEN) == weight:  # after every tick: the fake heals
            change(world)

    clock.on_advance(while_green_has_weight)
    deployer = make_deployer()
    with pytest.raises(GateFailed):
        deployer.deploy(V2)

    rec = latest(deployer)
    assert rec.state is State.ROLLED_BACK and rec.failed_in is failed_in
    assert (rec.reason or "").startswith(
        f"gate failed at {weight}% green: green target health: {counts}"
    )
    # Rolled back during that stage, never shifted further.
    assert [w[GREEN] for _, ref, w in world.writes if ref == HTTP] == [
        *(w for w in (10, 50, 100) if w <= weight),
        0,
    ]
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}
    assert [ts.target_group for ts in world.task_sets.values()] == [BLUE]


def test_an_alarm_deleted_during_a_bake_rolls_back_naming_it(
    make_deployer: MakeDeployer, world: World, clock: VirtualClock
) -> None:
    """Fail closed. Kills, in gates.alarms_ok: the `if missing:` verdict dropped (a deleted
    alarm read as OK)."""
    world.alarms["web-5xx"] = world.alarms["web-latency"] = AlarmState.OK

    def delete_at_fifty(_now: float) -> None:
        if world.routes[HTTP].get(GREEN) == 50:
            world.alarms.pop("web-5xx", None)

    clock.on_advance(delete_at_fifty)
    deployer = make_deployer(gates={"alarms": ["web-5xx", "web-latency"]})
    with pytest.raises(GateFailed, match="web-5xx"):
        deployer.deploy(V2)

    rec = latest(deployer)
    assert rec.state is State.ROLLED_BACK and rec.failed_in is State.SHIFTING
    assert rec.reason == "gate failed at 50% green: alarm(s) no longer exist: web-5xx"
    assert [w[GREEN] for _, ref, w in world.writes if ref == HTTP] == [10, 50, 0]
    assert_on_blue(world)


# --- outcome hooks: their failures are logged, never change the outcome ---------------------


def _succeed(make_deployer: MakeDeployer, world: World) -> None:
    make_deployer().deploy(V2)


def _roll_back(make_deployer: MakeDeployer, world: World) -> None:
    world.behaviour["repo/web:v2"] = "unhealthy"
    make_deployer().deploy(V2)


def _fail_the_rollback(make_deployer: MakeDeployer, world: World) -> None:
    steps = [{"weight": 30, "pause": True}, {"weight": 100}]
    deployer = make_deployer(strategy={"type": "steps", "steps": steps})
    deployer.deploy(V2, detach_at_pause=True)
    replace_health(world, BLUE, HealthState.UNHEALTHY, "Target.Timeout")
    deployer.rollback()


# outcome hook → (how to get there, end state, exit code, green's weight at the end)
OUTCOMES: dict[str, tuple[Callable[[MakeDeployer, World], None], State, int, int]] = {
    "on_success": (_succeed, State.SUCCEEDED, 0, 100),
    "on_rollback": (_roll_back, State.ROLLED_BACK, 1, 0),
    "on_failure": (_fail_the_rollback, State.FAILED, 3, 30),  # refused: blue has no target
}


@pytest.mark.parametrize(
    ("failing", "outcome"),
    [
        ("on_success", "on_success"),
        ("on_rollback", "on_rollback"),
        ("on_failure", "on_failure"),
        ("finally", "on_success"),
        ("finally", "on_rollback"),
        ("finally", "on_failure"),
    ],
)
def test_a_failing_outcome_hook_is_logged_and_changes_nothing(
    make_deployer: MakeDeployer, world: World, failing: str, outcome: str
) -> None:
    """Kills, in Engine._outcome_hooks: `log.warning(...)` → `raise HookFailed(...)` (for
    every event, or only for on_rollback / on_failure), and the log.warning dropped."""
    run, state, exit_code, green_weight = OUTCOMES[outcome]
    recording_hooks.FAIL_AT.add(failing)

    with capture_logs() as logs:
        try:
            run(make_deployer, world)
            raised: BaseException | None = None
        except (DeploymentFailed, RollbackFailed) as failed:
            raised = failed
    if raised is not None:  # the deployment's own failure, with its result — not the hook's
        assert not isinstance(raised, HookFailed)
        result = raised.result  # type: ignore[attr-defined]
        assert raised.exit_code == result.exit_code == exit_code
        assert result.state is state
    rec = latest_of(make_deployer)
    assert rec.state is state
    assert [c["event"] for c in recording_hooks.CALLS][-2:] == [outcome, "finally"]
    assert (
        world.weights(HTTP)
        == world.weights(HTTPS)
        == {
            BLUE: 100 - green_weight,
            GREEN: green_weight,
        }
    )
    logged = [
        (entry["hook"], entry["log_level"])
        for entry in logs
        if entry["event"] == "hook_failed"
        and entry["hook_event"] == failing
        and entry.get("deployment_id") == rec.id  # the engine's entry, not the runner's
    ]
    assert logged == [("recording_hooks:record", "warning")]


def test_a_failed_listener_write_is_undone_at_once_even_when_the_rollback_cannot_act(
    make_deployer: MakeDeployer, world: World
) -> None:
    """Only the shifter's own restore may put the first listener back: from the failed write
    on, listeners cannot be read, so the rollback stops before writing anything. Kills, in
    TrafficShifter.apply: `self._restore(before[: len(written)])` removed (the listeners
    stay split, HTTP at 10 % green and HTTPS on blue)."""
    writes = {"n": 0}

    def second_write_fails() -> Exception | None:
        writes["n"] += 1
        if writes["n"] != 2:
            return None
        world.fail["DescribeListeners"] = lambda: AwsError(
            "DescribeListeners", "ServiceUnavailable", "listeners unreadable"
        )
        return AwsError("ModifyListener", "ValidationError", "boom")

    world.fail["ModifyListener"] = second_write_fails
    deployer = make_deployer()
    with pytest.raises(RollbackFailed, match="listeners unreadable"):
        deployer.deploy(V2)

    assert latest(deployer).state is State.FAILED
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 100, GREEN: 0}


def test_promote_detaching_again_goes_on_to_the_next_pause(
    make_deployer: MakeDeployer, world: World
) -> None:
    steps = [{"weight": 20, "pause": True}, {"weight": 50, "pause": True}, {"weight": 100}]
    deployer = make_deployer(strategy={"type": "steps", "steps": steps})
    deployer.deploy(V2, detach_at_pause=True)
    assert world.weights(HTTP) == {BLUE: 80, GREEN: 20}

    at_next = deployer.promote(detach_at_pause=True)

    assert at_next.outcome == "paused"
    assert world.weights(HTTP) == world.weights(HTTPS) == {BLUE: 50, GREEN: 50}
    assert deployer.promote().outcome == "succeeded"
