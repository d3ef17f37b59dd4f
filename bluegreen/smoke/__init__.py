"""Smoke checks: HTTP requests made to green once it is healthy, before production moves.

`checks.py` runs a check and gives its verdict; `http.py` makes one request (urllib).
What a check asks for is configured in `[[analysis.http]]` (bluegreen.config.smoke); when
it runs is the engine's business (bluegreen.engine.smoke).
"""

from bluegreen.smoke.checks import Fetch, SmokeVerdict, listener_url, run_check, url_of
from bluegreen.smoke.http import Answer, request

__all__ = ["Answer", "Fetch", "SmokeVerdict", "listener_url", "request", "run_check", "url_of"]
