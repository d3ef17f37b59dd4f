"""Finding one deployment's record by its id, for `bluegreen report`: a clear refusal when
the id is malformed or not recorded, never a traceback from the store."""

from __future__ import annotations

import re

from bluegreen.errors import MissingResourceError, UsageError
from bluegreen.record import DeploymentRecord
from bluegreen.store import Store

# new_deployment_id's shape: bg-20261201T053512Z-a1b2c3. Checked before the store is asked,
# so an id can never name a path outside the service's records.
DEPLOYMENT_ID = re.compile(r"bg-\d{8}T\d{6}Z-[0-9a-f]{6}")
HINT = "`bluegreen history` lists the deployments of this service"


def find_record(store: Store, service_key: str, deployment_id: str | None) -> DeploymentRecord:
    if deployment_id is None:
        latest = store.latest(service_key)
        if latest is None:
            raise UsageError("this service has no deployment recorded yet", hint=HINT)
        return latest
    if not DEPLOYMENT_ID.fullmatch(deployment_id):
        raise UsageError(
            f"{deployment_id!r} is not a deployment id (they look like bg-20261201T053512Z-a1b2c3)",
            hint=HINT,
        )
    try:
        return store.load(service_key, deployment_id)
    except MissingResourceError as exc:  # the S3 store: no such record
        raise UsageError(f"deployment {deployment_id}: {exc.message}", hint=HINT) from None
    except OSError:  # the file store: no such record
        raise UsageError(f"deployment {deployment_id} is not recorded", hint=HINT) from None
