"""The `run_hook` fixture for the hook programs' tests (hook_programs.py)."""

from hook_programs import run_hook

__all__ = ["run_hook"]
