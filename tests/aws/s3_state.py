"""The S3 state store's test world: one bucket, one service, a lease clock at T0."""

from __future__ import annotations

from collections.abc import Callable

from bluegreen.record import DeploymentRecord, new_deployment_id
from bluegreen.store.s3 import S3Store

BUCKET = "bluegreen-state"
SERVICE = "prod__web"
T0 = 1_800_000_000.0

MakeStore = Callable[..., S3Store]


def record(now: float = T0, **fields: object) -> DeploymentRecord:
    return DeploymentRecord(
        id=new_deployment_id(now),
        service_key=SERVICE,
        cluster="prod",
        service="web",
        created_at=now,
        updated_at=now,
        **fields,  # type: ignore[arg-type]
    )
