"""The engine: what happens in which order during a deployment.

`engine.py` walks the state table (`bluegreen.machine`), saving the record before each
state acts; `plan.py` resolves what AWS shows into the plan the engine executes (and
`plan` / `--dry-run` print); `traffic.py` moves every listener together; `watch.py` bakes a
stage while polling the gates; `rollback.py` puts blue back; `interrupts.py` turns signals
and requests into checkpoints; `status.py` reads what a deployment looks like now.

Below it: topology, store, hooks, preflight and aws. Above it: the API (`bluegreen.deployer`).
"""
