"""Hooks: the user's commands, Python callables, Lambda functions and URLs run at each
transition.

`runner.py` runs the hooks of an event in order, with their time limits and the output kept
redacted; one module per kind does the running: `process.py` supervises a command's process
group (time limits, interrupts, a pipeline that dies), `python_call.py` calls a Python
function, `lambda_contract.py` invokes a Lambda and reads its answer (ECS's lifecycle-hook
contract included), `webhook.py` POSTs to a URL. The events themselves are part of the
state table (`bluegreen.machine`).
"""

from bluegreen.hooks.runner import HookResult, HookRunner, HookSpec
from bluegreen.machine import FATAL_EVENTS, HookEvent

__all__ = ["FATAL_EVENTS", "HookEvent", "HookResult", "HookRunner", "HookSpec"]
