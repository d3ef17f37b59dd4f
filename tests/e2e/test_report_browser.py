"""The HTML report seen in a real browser: headless Chromium (Debian's package; .ci/run
installs it) opens the file a deployment's `bluegreen report --format html` wrote, with
every network feature off; its screenshot must show the page at the size asked, not blank,
with the timeline's green-weight line and the rollback's failed verdict drawn, and its DOM
must hold the titles.

Chromium missing: a failure under `--whole-suite` or in CI (the suite must not shrink
silently there); a skip that says why anywhere else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_harness import Cli
from PIL import Image

from bluegreen.report.chart import GREEN_WEIGHT, VERDICT_STYLES
from bluegreen.sandbox import AppModel, Sandbox

V2 = "public.ecr.aws/bluegreen/demo-web:2.0.0"
ERRING = "public.ecr.aws/bluegreen/demo-web:4.0.0"
WIDTH, HEIGHT = 1200, 1500
FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--window-size={WIDTH},{HEIGHT}",
]


@pytest.fixture
def chromium(request: pytest.FixtureRequest) -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    why = "chromium is not installed (apt-get install chromium; .ci/run does it)"
    if request.config.getoption("--whole-suite") or os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


def browse(chromium: str, page: Path, tmp_path: Path, *action: str) -> str:
    done = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *action, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def pixels_near(image: Image.Image, colour: str, tolerance: int = 12) -> int:
    want = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return sum(
        count
        for count, rgb in image.getcolors(WIDTH * HEIGHT) or []
        if all(abs(a - b) <= tolerance for a, b in zip(rgb, want, strict=True))
    )


@pytest.mark.slow
def test_the_html_report_of_a_rolled_back_deployment_renders_in_chromium(
    run_cli: Cli, sandbox: Sandbox, chromium: str, tmp_path: Path
) -> None:
    sandbox.apps[ERRING] = AppModel(error_rate=0.2)
    run_cli.configure(analysis={"metrics": [{"name": "error_rate", "max_increase": "25%"}]})
    assert run_cli("deploy", "--image", f"web={ERRING}").exit_code == 1
    page = tmp_path / "report.html"
    assert run_cli("report", "--format", "html", "--out", str(page)).exit_code == 0

    shot = tmp_path / "report.png"
    browse(chromium, page, tmp_path, f"--screenshot={shot}", "--hide-scrollbars")
    image = Image.open(shot).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    assert len(image.getcolors(WIDTH * HEIGHT) or []) > 50  # not a blank page
    assert pixels_near(image, GREEN_WEIGHT) > 400  # green's weight, drawn as a line
    assert pixels_near(image, VERDICT_STYLES["fail"][1]) > 30  # the failed verdict's mark
    samples = os.environ.get("BLUEGREEN_REPORT_SAMPLES")
    if samples:
        Path(samples).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(samples) / "rolledback.png")

    dom = browse(chromium, page, tmp_path, "--dump-dom")
    (rec,) = [d.record() for d in run_cli.deployers[-1:]]
    assert f"<title>web: rolled back ({rec.id})</title>" in dom
    for heading in ("Timeline", "Stages", "Metric analysis"):
        assert f"<h2>{heading}</h2>" in dom
    assert "<svg" in dom and "analysis failed at 10% green: error_rate" in dom
