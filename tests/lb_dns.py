"""The DNS name of a sandbox stack's load balancer: what smoke checks and hooks request."""

from __future__ import annotations

import boto3

from bluegreen.sandbox.stack import SandboxStack


def dns_name(stack: SandboxStack) -> str:
    elb = boto3.client("elbv2", region_name=stack.region)
    [balancer] = elb.describe_load_balancers(LoadBalancerArns=[stack.lb_arn])["LoadBalancers"]
    found: str = balancer["DNSName"]
    return found
