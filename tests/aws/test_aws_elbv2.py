"""The ELBv2 adapter against moto: target groups, health, routes and weight changes."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup
from stack import Stack, create_target_group

from bluegreen.aws import AwsCloud
from bluegreen.aws.elbv2 import forward_weights, listener_arn_of_rule, rewrite_actions
from bluegreen.errors import MissingResourceError, PreflightError
from bluegreen.model import HealthState, RouteKind, RouteRef

ELB = "arn:aws:elasticloadbalancing:us-east-1:123456789012"


def listener(stack: Stack) -> RouteRef:
    return RouteRef(RouteKind.LISTENER, stack.http_listener_arn)


def rule(stack: Stack) -> RouteRef:
    return RouteRef(RouteKind.RULE, stack.api_rule_arn)


# -- target groups ---------------------------------------------------------------------------


def test_target_groups_by_name_and_arn_in_the_order_asked(cloud: AwsCloud, stack: Stack) -> None:
    groups = cloud.elb.target_groups(["web-green", stack.blue_tg_arn, "web-blue"])

    assert [g.arn for g in groups] == [stack.green_tg_arn, stack.blue_tg_arn, stack.blue_tg_arn]
    blue = groups[1]
    assert (blue.name, blue.protocol, blue.port, blue.vpc_id) == (
        "web-blue",
        "HTTP",
        8080,
        stack.vpc_id,
    )
    assert blue.target_type == "ip"
    assert blue.load_balancer_arns == (stack.lb_arn,)
    check = blue.health_check
    assert (check.path, check.port, check.matcher) == ("/health", "traffic-port", "200")
    assert (check.interval_seconds, check.healthy_threshold) == (10, 2)
    # one call for the ARNs, one for the names
    assert cloud.calls == ["DescribeTargetGroups", "DescribeTargetGroups"]


def test_target_groups_are_described_twenty_at_a_time(cloud: AwsCloud, stack: Stack) -> None:
    elb = boto3.client("elbv2")
    arns = [create_target_group(elb, f"tg-{i}", stack.vpc_id) for i in range(25)]

    assert [g.arn for g in cloud.elb.target_groups(arns)] == arns
    assert cloud.calls == ["DescribeTargetGroups", "DescribeTargetGroups"]


@pytest.mark.parametrize("by_arn", [False, True])
def test_a_missing_target_group_is_named(cloud: AwsCloud, stack: Stack, by_arn: bool) -> None:
    missing = stack.green_tg_arn.replace("web-green", "web-gone") if by_arn else "web-gone"
    asked = [stack.blue_tg_arn, missing] if by_arn else ["web-blue", missing]

    with pytest.raises(MissingResourceError) as caught:
        cloud.elb.target_groups(asked)

    assert caught.value.message == f"target group {missing} not found in us-east-1"
    assert caught.value.hint and "bluegreen init" in caught.value.hint


# -- health and load balancer ---------------------------------------------------------------


def test_target_health_reads_state_reason_and_description(
    cloud: AwsCloud, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("elbv2").register_targets(
        TargetGroupArn=stack.blue_tg_arn,
        Targets=[{"Id": "10.0.1.10", "Port": 8080}, {"Id": "10.0.1.11", "Port": 8080}],
    )
    healthy = FakeTargetGroup.health_for

    def health_for(self: FakeTargetGroup, target: dict[str, Any], ec2: Any) -> FakeHealthStatus:
        if target["Id"] == "10.0.1.11":
            return FakeHealthStatus(
                "10.0.1.11",
                "8080",
                "traffic-port",
                "unhealthy",
                "Target.ResponseCodeMismatch",
                "Health checks failed with these codes: [404]",
            )
        return healthy(self, target, ec2)

    monkeypatch.setattr(FakeTargetGroup, "health_for", health_for)

    health = cloud.elb.target_health(stack.blue_tg_arn)

    by_id = {t.target_id: t for t in health.targets}
    assert by_id["10.0.1.10"].state is HealthState.HEALTHY
    assert by_id["10.0.1.10"].port == 8080
    sick = by_id["10.0.1.11"]
    assert (sick.state, sick.reason) == (HealthState.UNHEALTHY, "Target.ResponseCodeMismatch")
    assert sick.description and "404" in sick.description
    assert health.healthy_count == 1
    assert health.reasons() == {"Target.ResponseCodeMismatch": 1}


def test_target_health_of_a_missing_group(cloud: AwsCloud) -> None:
    with pytest.raises(MissingResourceError, match=r"target group .*web-gone"):
        cloud.elb.target_health(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-gone/1"
        )


def test_load_balancer(cloud: AwsCloud, stack: Stack) -> None:
    lb = cloud.elb.load_balancer(stack.lb_arn)

    assert (lb.arn, lb.name, lb.type, lb.vpc_id) == (
        stack.lb_arn,
        "web",
        "application",
        stack.vpc_id,
    )
    assert lb.dns_name


# -- routes ---------------------------------------------------------------------------------


def test_route_of_a_listener(cloud: AwsCloud, stack: Stack) -> None:
    route = cloud.elb.route(listener(stack))

    assert route.weights == {stack.blue_tg_arn: 100, stack.green_tg_arn: 0}
    assert (route.load_balancer_arn, route.protocol, route.port) == (stack.lb_arn, "HTTP", 80)
    assert route.live_target_group() == stack.blue_tg_arn
    assert route.actions[0]["Type"] == "forward"


def test_route_of_a_rule_reads_its_listener(cloud: AwsCloud, stack: Stack) -> None:
    route = cloud.elb.route(rule(stack))

    assert route.weights == {stack.blue_tg_arn: 100, stack.green_tg_arn: 0}
    assert (route.load_balancer_arn, route.protocol, route.port) == (stack.lb_arn, "HTTP", 80)
    assert cloud.calls == ["DescribeRules", "DescribeListeners"]


def test_routes_are_read_in_one_call_per_kind_in_the_order_asked(
    cloud: AwsCloud, stack: Stack
) -> None:
    https = RouteRef(RouteKind.LISTENER, stack.https_listener_arn)
    refs = [rule(stack), listener(stack), https]
    one_by_one = [cloud.elb.route(ref) for ref in refs]
    cloud.reads.forget()
    cloud.calls.clear()

    together = cloud.elb.routes(refs)

    assert together == one_by_one
    assert sorted(cloud.calls) == ["DescribeListeners", "DescribeRules"]


def test_route_of_a_plain_forward_and_of_a_missing_weight(cloud: AwsCloud, stack: Stack) -> None:
    elb = boto3.client("elbv2")
    elb.modify_listener(
        ListenerArn=stack.http_listener_arn,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": stack.green_tg_arn}],
    )
    elb.modify_rule(
        RuleArn=stack.api_rule_arn,
        Actions=[
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": stack.blue_tg_arn},
                        {"TargetGroupArn": stack.green_tg_arn, "Weight": 3},
                    ]
                },
            }
        ],
    )

    assert cloud.elb.route(listener(stack)).weights == {stack.green_tg_arn: 1}
    assert cloud.elb.route(rule(stack)).weights == {stack.blue_tg_arn: 1, stack.green_tg_arn: 3}


def test_forward_weights_without_weight_or_forward_config() -> None:
    assert forward_weights({"Type": "forward", "TargetGroupArn": "a"}) == {"a": 1}
    both = {
        "Type": "forward",
        "TargetGroupArn": "a",
        "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": "a"}, {"TargetGroupArn": "b"}]},
    }
    assert forward_weights(both) == {"a": 1, "b": 1}


def test_a_route_that_does_not_forward_is_refused(cloud: AwsCloud, stack: Stack) -> None:
    boto3.client("elbv2").modify_listener(
        ListenerArn=stack.http_listener_arn,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}],
    )

    with pytest.raises(PreflightError, match="does not forward") as caught:
        cloud.elb.route(listener(stack))
    assert caught.value.hint and "weight" in caught.value.hint


@pytest.mark.parametrize(
    "ref",
    [
        RouteRef(RouteKind.LISTENER, f"{ELB}:listener/app/web/5c0c9188/f2f7dc8e"),
        RouteRef(RouteKind.RULE, f"{ELB}:listener-rule/app/web/5c0c9188/f2f7dc8e/9683b2d0"),
    ],
)
def test_a_missing_route(cloud: AwsCloud, ref: RouteRef) -> None:
    with pytest.raises(MissingResourceError, match=f"{ref.kind.value} .* not found") as caught:
        cloud.elb.route(ref)
    assert caught.value.hint and "describe-" in caught.value.hint


def test_listener_arn_of_rule() -> None:
    rule_arn = (
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
        "listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
    )
    assert listener_arn_of_rule(rule_arn) == (
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
        "listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2"
    )
    with pytest.raises(PreflightError, match="not a listener rule ARN"):
        listener_arn_of_rule("arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/x")


# -- set_weights ----------------------------------------------------------------------------


def test_set_weights_on_a_listener(cloud: AwsCloud, stack: Stack) -> None:
    written = cloud.elb.set_weights(
        listener(stack), {stack.blue_tg_arn: 90, stack.green_tg_arn: 10}
    )

    assert written.weights == {stack.blue_tg_arn: 90, stack.green_tg_arn: 10}
    assert written.percent(stack.green_tg_arn) == 10.0
    assert (written.load_balancer_arn, written.protocol, written.port) == (stack.lb_arn, "HTTP", 80)
    assert cloud.elb.route(listener(stack)).weights == written.weights
    # the HTTPS listener and the rule are untouched
    assert cloud.elb.route(rule(stack)).weights[stack.green_tg_arn] == 0
    assert cloud.mutating_calls() == ["ModifyListener"]
    https = boto3.client("elbv2").describe_listeners(ListenerArns=[stack.https_listener_arn])
    assert https["Listeners"][0]["Certificates"][0]["CertificateArn"] == stack.certificate_arn


def test_set_weights_on_a_rule_keeps_other_actions_and_conditions(
    cloud: AwsCloud, stack: Stack
) -> None:
    oidc = {
        "Type": "authenticate-oidc",
        "Order": 1,
        "AuthenticateOidcConfig": {
            "Issuer": "https://idp.example.com",
            "AuthorizationEndpoint": "https://idp.example.com/auth",
            "TokenEndpoint": "https://idp.example.com/token",
            "UserInfoEndpoint": "https://idp.example.com/userinfo",
            "ClientId": "bluegreen",
            "ClientSecret": "s3cr3t",
        },
    }
    sticky = {"Enabled": True, "DurationSeconds": 300}
    forward = {
        "Type": "forward",
        "Order": 2,
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": stack.blue_tg_arn, "Weight": 1}],
            "TargetGroupStickinessConfig": sticky,
        },
    }
    elb = boto3.client("elbv2")
    elb.modify_rule(RuleArn=stack.api_rule_arn, Actions=[oidc, forward])

    written = cloud.elb.set_weights(rule(stack), {stack.blue_tg_arn: 0, stack.green_tg_arn: 1})

    assert written.weights == {stack.blue_tg_arn: 0, stack.green_tg_arn: 1}
    assert written.port == 80
    [after] = elb.describe_rules(RuleArns=[stack.api_rule_arn])["Rules"]
    assert after["Actions"][0] == oidc
    assert after["Actions"][1]["Order"] == 2
    assert after["Actions"][1]["ForwardConfig"]["TargetGroupStickinessConfig"] == sticky
    assert after["Conditions"] == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api*"]}}
    ]
    assert after["Priority"] == "10"
    assert cloud.mutating_calls() == ["ModifyRule"]


def test_set_weights_replaces_a_plain_forward(cloud: AwsCloud, stack: Stack) -> None:
    elb = boto3.client("elbv2")
    elb.modify_listener(
        ListenerArn=stack.http_listener_arn,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": stack.blue_tg_arn}],
    )

    cloud.elb.set_weights(listener(stack), {stack.blue_tg_arn: 1, stack.green_tg_arn: 1})

    [action] = elb.describe_listeners(ListenerArns=[stack.http_listener_arn])["Listeners"][0][
        "DefaultActions"
    ]
    assert "TargetGroupArn" not in action
    assert action["ForwardConfig"]["TargetGroupStickinessConfig"] == {"Enabled": False}


BLUE = f"{ELB}:targetgroup/web-blue/1"
GREEN = f"{ELB}:targetgroup/web-green/2"
LISTENER = RouteRef(RouteKind.LISTENER, f"{ELB}:listener/app/web/3/4")


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ({BLUE: 0, GREEN: 1000}, "outside 0-999"),
        ({BLUE: -1, GREEN: 1}, "outside 0-999"),
        ({BLUE: 0, GREEN: 2.5}, "not an integer"),
        ({BLUE: 0, GREEN: True}, "not an integer"),
        ({BLUE: 0, GREEN: 0}, "must send traffic somewhere"),
        ({}, "must send traffic somewhere"),
        ({f"{GREEN}{i}": 1 for i in range(6)}, "at most 5 target groups"),
    ],
)
def test_set_weights_refuses_bad_weights_before_any_call(
    cloud: AwsCloud, weights: Any, match: str
) -> None:
    with pytest.raises(PreflightError, match=match):
        cloud.elb.set_weights(LISTENER, weights)
    assert cloud.calls == []


def test_set_weights_refuses_target_group_names(cloud: AwsCloud, stack: Stack) -> None:
    with pytest.raises(PreflightError, match="keyed by target group ARN"):
        cloud.elb.set_weights(listener(stack), {"web-blue": 1, "web-green": 1})
    assert cloud.mutating_calls() == []


def test_set_weights_refuses_a_target_group_in_another_vpc(cloud: AwsCloud, stack: Stack) -> None:
    other_vpc = boto3.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    stray = create_target_group(boto3.client("elbv2"), "web-stray", other_vpc)

    with pytest.raises(PreflightError, match=f"web-stray is in {other_vpc}") as caught:
        cloud.elb.set_weights(listener(stack), {stack.blue_tg_arn: 50, stray: 50})

    assert caught.value.hint and stack.vpc_id in caught.value.hint
    assert cloud.mutating_calls() == []


def test_set_weights_refuses_a_missing_target_group(cloud: AwsCloud, stack: Stack) -> None:
    gone = stack.green_tg_arn.replace("web-green", "web-gone")

    with pytest.raises(MissingResourceError, match="web-gone"):
        cloud.elb.set_weights(listener(stack), {stack.blue_tg_arn: 50, gone: 50})
    assert cloud.mutating_calls() == []


def test_set_weights_refuses_a_protocol_the_load_balancer_cannot_forward_to(
    cloud: AwsCloud, stack: Stack
) -> None:
    tcp = boto3.client("elbv2").create_target_group(
        Name="web-tcp", Protocol="TCP", Port=8080, VpcId=stack.vpc_id, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]

    with pytest.raises(PreflightError, match="speaks TCP"):
        cloud.elb.set_weights(listener(stack), {stack.blue_tg_arn: 50, tcp: 50})


def test_carried_oidc_without_its_secret_uses_the_existing_one() -> None:
    # AWS never returns ClientSecret; writing the action back then needs this flag.
    oidc = {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {"ClientId": "x"}}
    forward = {"Type": "forward", "Order": 2, "TargetGroupArn": "blue"}

    actions = rewrite_actions([oidc, forward], {"blue": 9, "green": 1})

    assert actions[0]["AuthenticateOidcConfig"] == {
        "ClientId": "x",
        "UseExistingClientSecret": True,
    }
    assert oidc["AuthenticateOidcConfig"] == {"ClientId": "x"}  # the input is not changed
    assert actions[1] == {
        "Type": "forward",
        "Order": 2,
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": "blue", "Weight": 9},
                {"TargetGroupArn": "green", "Weight": 1},
            ]
        },
    }


def test_forward_stickiness_is_carried_only_when_it_was_set() -> None:
    sticky = {"Enabled": True, "DurationSeconds": 60}
    forward = {"Type": "forward", "ForwardConfig": {"TargetGroupStickinessConfig": sticky}}

    assert rewrite_actions([forward], {"blue": 1})[0]["ForwardConfig"] == {
        "TargetGroups": [{"TargetGroupArn": "blue", "Weight": 1}],
        "TargetGroupStickinessConfig": sticky,
    }


def test_set_weights_checks_each_group_against_the_load_balancer_once(
    cloud: AwsCloud, stack: Stack
) -> None:
    ref = RouteRef(RouteKind.LISTENER, stack.http_listener_arn)
    for green in (10, 50, 100):
        cloud.elb.set_weights(ref, {stack.blue_tg_arn: 100 - green, stack.green_tg_arn: green})
    assert cloud.calls.count("DescribeTargetGroups") == 1
    assert cloud.calls.count("DescribeLoadBalancers") == 1
    assert cloud.calls.count("ModifyListener") == 3


def test_routes_with_one_missing_name_it(cloud: AwsCloud, stack: Stack) -> None:
    gone = f"{stack.https_listener_arn[:-4]}dead"
    refs = [listener(stack), RouteRef(RouteKind.LISTENER, gone)]
    with pytest.raises(MissingResourceError, match=f"{gone} not found") as caught:
        cloud.elb.routes(refs)
    assert caught.value.hint and "[[listeners]]" in caught.value.hint
