"""The CI pipelines under examples/: GitHub Actions workflows and a GitLab CI file.

Each is checked by the linters a user's CI would run (actionlint, with shellcheck on every
`run:` block; check-jsonschema with the GitHub-workflow and GitLab-CI schemas it ships, no
network needed), then for what the examples promise: OIDC, one concurrency group per
service that never cancels a deployment, the report always kept, the exit codes told
apart, and every `bluegreen` command line made of real commands and options.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from example_files import EXAMPLES, GITLAB, WORKFLOWS, run, tool

from bluegreen import cli

PIPELINES = [*WORKFLOWS, *GITLAB]
GROUP = "bluegreen-prod-web"  # one service, one group, in every pipeline
# Commands built beside this one (the report); their lines are checked once they exist.
BUILT_ELSEWHERE = {"report"}
SEPARATORS = {"||", "&&", ";", ";;", "|", ">", ">>", "(", ")"}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads a bare `on:` key as true
        data["on"] = data.pop(True)
    return data


def ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


# ----------------------------------------------------------------------- the linters


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids(WORKFLOWS))
def test_actionlint_and_shellcheck_find_nothing(path: Path) -> None:
    found = run(tool("actionlint"), "-shellcheck", tool("shellcheck"), str(path))
    assert (found.returncode, found.stdout, found.stderr) == (0, "", "")


def test_actionlint_catches_a_typo_and_shellcheck_an_unquoted_variable(tmp_path: Path) -> None:
    # Both checks must be able to fail, or a broken example would pass CI.
    text = (EXAMPLES / "github-actions" / "deploy.yml").read_text(encoding="utf-8")
    broken = tmp_path / "deploy.yml"
    broken.write_text(
        text.replace("${{ inputs.image }}", "${{ inputs.imag }}").replace(
            '--image "$CONTAINER=$image"', "--image $CONTAINER=$image"
        ),
        encoding="utf-8",
    )
    found = run(tool("actionlint"), "-shellcheck", tool("shellcheck"), str(broken))
    assert found.returncode == 1
    assert 'property "imag" is not defined' in found.stdout
    assert "SC2086" in found.stdout  # shellcheck ran on the run: block


@pytest.mark.parametrize(
    ("path", "schema"),
    [*((p, "vendor.github-workflows") for p in WORKFLOWS), (GITLAB[0], "vendor.gitlab-ci")],
    ids=[*ids(WORKFLOWS), ".gitlab-ci.yml"],
)
def test_the_vendored_json_schema_accepts_it(path: Path, schema: str, tmp_path: Path) -> None:
    checked = run(sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # …and refuses it with a misspelt key: the schema is really applied.
    broken = tmp_path / path.name
    text = path.read_text(encoding="utf-8")
    broken.write_text(text.replace("runs-on:", "run-on:").replace("stage:", "stag:"), "utf-8")
    refused = run(sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(broken))
    assert refused.returncode == 1


# ------------------------------------------------------------------ what they promise


def test_deploy_runs_on_push_to_main_or_by_hand_with_an_image() -> None:
    on = load(EXAMPLES / "github-actions" / "deploy.yml")["on"]
    assert on["push"] == {"branches": ["main"]}
    assert set(on["workflow_dispatch"]["inputs"]) == {"image"}


def test_operate_offers_promote_rollback_and_status_with_a_reason() -> None:
    inputs = load(EXAMPLES / "github-actions" / "operate.yml")["on"]["workflow_dispatch"]["inputs"]
    assert (inputs["action"]["type"], set(inputs["action"]["options"])) == (
        "choice",
        {"promote", "rollback", "status"},
    )
    assert "reason" in inputs


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids(WORKFLOWS))
def test_workflows_use_oidc_and_share_one_never_cancelled_group(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"]["id-token"] == "write"
    assert workflow["permissions"]["contents"] == "read"
    assert workflow["concurrency"] == {"group": GROUP, "cancel-in-progress": False}
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    (aws,) = [s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-cred")]
    assert set(aws["with"]) >= {"role-to-assume", "aws-region"}
    assert not any(k.startswith("aws-secret") or k.startswith("aws-access") for k in aws["with"])


def test_deploy_grants_deployments_and_always_keeps_the_report() -> None:
    workflow = load(EXAMPLES / "github-actions" / "deploy.yml")
    assert workflow["permissions"]["deployments"] == "write"
    steps = workflow["jobs"]["deploy"]["steps"]
    names = [s.get("name") for s in steps]
    assert names.index("Verify") < names.index("Deploy") < names.index("Report (HTML)")
    report, upload = steps[names.index("Report (HTML)") :][:2]
    assert report["if"] == upload["if"] == "always()"
    assert "--format html --out bluegreen-report.html" in report["run"]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert "bluegreen-report.html" in upload["with"]["path"]


@pytest.mark.parametrize("path", PIPELINES, ids=ids(PIPELINES))
def test_every_exit_code_is_told_apart(path: Path) -> None:
    # A `case` branch per code, each saying something of its own.
    text = path.read_text(encoding="utf-8")
    said = {code: re.findall(rf"^\s*{code}\) echo (.+)$", text, re.M) for code in "1234"}
    assert all(said.values()), said
    assert len({lines[0] for lines in said.values()}) == 4


def test_gitlab_uses_oidc_one_resource_group_and_manual_operations() -> None:
    jobs = load(GITLAB[0])
    base = jobs[".bluegreen"]
    assert base["resource_group"] == GROUP and base["interruptible"] is False
    assert base["id_tokens"]["AWS_ID_TOKEN"]["aud"] == "sts.amazonaws.com"
    assert any("AWS_WEB_IDENTITY_TOKEN_FILE" in line for line in base["before_script"])
    for name in ("verify", "deploy", "promote", "rollback", "status"):
        assert jobs[name]["extends"] in (".bluegreen", ".operate"), name
    assert [r.get("when") for r in jobs[".operate"]["rules"]] == ["manual"]
    assert jobs["deploy"]["artifacts"]["when"] == "always"
    assert "bluegreen-report.html" in jobs["deploy"]["artifacts"]["paths"]


# ------------------------------------------------------------ the bluegreen commands


def scripts(path: Path) -> list[str]:
    """Every shell script of a pipeline: GitHub `run:` blocks, GitLab script lines."""
    data = load(path)
    if path in WORKFLOWS:
        return [s["run"] for job in data["jobs"].values() for s in job["steps"] if "run" in s]
    found: list[str] = []
    for job in data.values():
        if isinstance(job, dict):
            for key in ("before_script", "script", "after_script"):
                found += job.get(key, [])
    return found


def invocations(script: str) -> list[list[str]]:
    """The `bluegreen …` commands of a script, as argv (continuation lines joined)."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        for start, word in enumerate(words):
            if word != "bluegreen" or (start and words[start - 1] not in SEPARATORS):
                continue  # an argument (`pip install bluegreen`), not a command
            argv = []
            for word in words[start:]:
                if word in SEPARATORS:
                    break
                argv.append(word)
            found.append(argv)
    return found


def all_invocations() -> list[tuple[str, list[str]]]:
    return [
        (path.name, argv)
        for path in PIPELINES
        for script in scripts(path)
        for argv in invocations(script)
    ]


def test_the_pipelines_run_verify_deploy_promote_rollback_status_and_report() -> None:
    verbs = {argv[1] for _, argv in all_invocations()}
    assert verbs == {"verify", "deploy", "promote", "rollback", "status", "report"}


@pytest.mark.parametrize(("where", "argv"), all_invocations(), ids=lambda x: str(x)[:60])
def test_every_bluegreen_command_line_is_real(where: str, argv: list[str]) -> None:
    group = typer.main.get_command(cli.app)
    assert isinstance(group, typer.core.TyperGroup)
    verb = argv[1]
    command = group.commands.get(verb)
    if command is None and verb in BUILT_ELSEWHERE:
        pytest.skip(f"`bluegreen {verb}` is not in this tree yet")
    assert command is not None, f"{where}: no command `bluegreen {verb}`"
    known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    given = {w.split("=")[0] for w in argv[2:] if w.startswith("-")}
    assert given <= known, f"{where}: `bluegreen {verb}` has no {sorted(given - known)}"
    assert "--config" in given, f"{where}: `bluegreen {verb}` without --config"
