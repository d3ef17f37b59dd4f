"""Where the examples are, and what stands in for the user's own resources in them.

The examples name a user's resources with obvious placeholders (the account 123456789012,
made-up listener ids, a made-up load-balancer DNS name). A test that deploys an example on
the sandbox builds a world with the example's names (cluster "prod", service "web", target
groups "web-blue"/"web-green") and puts the sandbox's ARNs where the placeholders are:
`substitute` refuses an ARN it has no stand-in for, so an example can never point a test,
or a user who copies it unread, at something real by accident.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sysconfig
from pathlib import Path

from bluegreen.sandbox.stack import SandboxStack

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLES = REPOSITORY / "examples"

# What each test module checks (test_examples_covered.py: every file is in one of these).
README = EXAMPLES / "README.md"  # test_examples_covered.py
CONFIGS = sorted((EXAMPLES / "configs").glob("*.toml"))  # test_configs.py
WORKFLOWS = sorted((EXAMPLES / "github-actions").glob("*.yml"))  # test_pipelines.py
GITLAB = [EXAMPLES / "gitlab-ci" / ".gitlab-ci.yml"]  # test_pipelines.py
TEMPLATES = sorted((EXAMPLES / "cloudformation").glob("*.yaml"))  # test_cloudformation.py
SCRIPTS = [EXAMPLES / "release.py"]  # test_release_script.py

_APP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188"
_NET = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/web/73e2d6bc24d8a067"
_RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/50dc6c495c0c9188"

# Each placeholder ARN the examples use, and the sandbox stack's attribute that replaces it.
PLACEHOLDER_ARNS = {
    f"{_APP}/f2f7dc8efc522ab2": "http_listener_arn",  # HTTP :80
    f"{_APP}/8a1c3e6b2f9d4e10": "https_listener_arn",  # HTTPS :443
    f"{_APP}/0c7e2f4a9d1b3c55": "test_listener_arn",  # HTTP :8080
    f"{_RULE}/8a1c3e6b2f9d4e10/9683b2d02a6cabee": "api_rule_arn",  # /api* on HTTPS :443
    f"{_NET}/a1b2c3d4e5f60718": "http_listener_arn",  # TCP :80
    f"{_NET}/9f8e7d6c5b4a3921": "https_listener_arn",  # TLS :443
    f"{_NET}/5e6f708192a3b4c5": "test_listener_arn",  # TCP :8080
}
PLACEHOLDER_DNS = "web-1234567890.us-east-1.elb.amazonaws.com"
ARN = re.compile(r"arn:aws:[^\"'\s]+")


def substitute(text: str, stack: SandboxStack, dns_name: str) -> str:
    """`text` with the sandbox stack's ARNs and DNS name in place of the placeholders."""
    for arn in ARN.findall(text):
        if arn not in PLACEHOLDER_ARNS:
            raise AssertionError(f"{arn} is not a placeholder the example tests know")
    for placeholder, attribute in PLACEHOLDER_ARNS.items():
        if placeholder in text:
            value = getattr(stack, attribute)
            assert value, f"the sandbox stack has no {attribute} for {placeholder}"
            text = text.replace(placeholder, value)
    return text.replace(PLACEHOLDER_DNS, dns_name)


def tool(name: str) -> str:
    """The path of a checker the `test` extra installs (actionlint, shellcheck): in this
    interpreter's scripts folder first — `pip install` puts them there, and that folder
    need not be on PATH — then on PATH."""
    found = shutil.which(name, path=sysconfig.get_path("scripts")) or shutil.which(name)
    assert found, f"{name} is not installed: python3 -m pip install -e '.[test]'"
    return found


def run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A checker's run, its output captured; PATH starts at the scripts folder, so a
    checker that calls another (actionlint → shellcheck) finds it."""
    scripts = sysconfig.get_path("scripts")
    env = {**os.environ, "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")])}
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=120, cwd=cwd, env=env, check=False
    )
