"""Onboarding: `bluegreen init` finds an existing service's wiring in AWS and writes the
configuration that deploys it as it is (`initialize.py`, `init_config.py`, `toml_writer.py`).

The checks `bluegreen verify` prints are the deploy's own preflight: `bluegreen.preflight`.
"""
