"""What a hold suspends (bluegreen/scaling.py), pure: it only ever adds to what the user had
suspended, "scale-in" holds scheduled scaling with it, and the command that restores a
target by hand says exactly the state to put back."""

from __future__ import annotations

import pytest

from bluegreen.record import DeploymentRecord
from bluegreen.scaling import (
    ScalingHold,
    SuspendedState,
    describe_hold,
    resource_id,
    restore_command,
)

NOTHING = SuspendedState()
EVERYTHING = SuspendedState(True, True, True)


@pytest.mark.parametrize(
    ("found", "mode", "held"),
    [
        (NOTHING, "scale-in", SuspendedState(dynamic_in=True, scheduled=True)),
        (NOTHING, "scale-in-and-out", EVERYTHING),
        (NOTHING, "none", NOTHING),
        (SuspendedState(dynamic_out=True), "scale-in", EVERYTHING),  # the user's stays
        (SuspendedState(dynamic_out=True), "none", SuspendedState(dynamic_out=True)),
        (EVERYTHING, "scale-in", EVERYTHING),
    ],
)
def test_a_hold_adds_to_what_was_suspended_and_takes_nothing_away(
    found: SuspendedState, mode: str, held: SuspendedState
) -> None:
    assert found.holding(mode) == held  # type: ignore[arg-type]


def test_the_restore_command_puts_back_every_flag_of_the_state_found() -> None:
    command = restore_command("service/prod/web", SuspendedState(dynamic_out=True))
    assert command == (
        "aws application-autoscaling register-scalable-target --service-namespace ecs "
        "--scalable-dimension ecs:service:DesiredCount --resource-id service/prod/web "
        "--suspended-state DynamicScalingInSuspended=false,DynamicScalingOutSuspended=true,"
        "ScheduledScalingSuspended=false"
    )


def test_resource_ids_are_made_of_names_whether_given_names_or_arns() -> None:
    assert resource_id("prod", "web") == "service/prod/web"
    assert (
        resource_id(
            "arn:aws:ecs:eu-west-1:111122223333:cluster/prod",
            "arn:aws:ecs:eu-west-1:111122223333:service/prod/web",
        )
        == "service/prod/web"
    )


def test_the_plan_says_nothing_is_held_with_hold_none() -> None:
    assert describe_hold("none", ["web"]) is None
    assert describe_hold("scale-in-and-out", ["a", "b"]) == (
        "suspend dynamic scale-in, dynamic scale-out, scheduled scaling on the auto scaling "
        "target of a and b (if any) until the deployment ends, then restore it as found"
    )


def test_a_hold_round_trips_through_a_saved_record_and_only_one_left_is_a_warning() -> None:
    rec = DeploymentRecord(
        id="bg-1", service_key="k", cluster="c", service="s", created_at=0, updated_at=0
    )
    rec.scaling_holds = [
        ScalingHold(service="a", resource_id="service/c/a", previous=NOTHING, held=EVERYTHING),
        ScalingHold(
            service="b",
            resource_id="service/c/b",
            previous=SuspendedState(dynamic_out=True),
            held=EVERYTHING,
            left="auto scaling of service b could not be restored",
        ),
    ]
    again = DeploymentRecord.model_validate_json(rec.model_dump_json())
    assert again.scaling_holds == rec.scaling_holds
    assert again.scaling_holds[1].previous == SuspendedState(dynamic_out=True)
    assert again.warnings == ["auto scaling of service b could not be restored"]
    old = DeploymentRecord.model_validate_json(
        rec.model_dump_json(exclude={"scaling_holds"})
    )  # a record written before holds existed
    assert old.scaling_holds == [] and old.warnings == []
