"""Onboarding: `bluegreen init` finds an existing service's wiring in AWS and writes the
configuration that deploys it as it is: `initialize.py` (the entry, and every change it
makes), `discovery.py` (what it reads and refuses first), `init_config.py` (the file's
text), `toml_writer.py`.

The checks `bluegreen verify` prints are the deploy's own preflight: `bluegreen.preflight`.
"""
