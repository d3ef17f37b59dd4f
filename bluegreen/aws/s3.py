"""S3 objects in one bucket, with S3's conditional writes: the ground the S3 state store
(`bluegreen.store.s3`) builds its records and its lock on.

Rules:
- Each PutObject and DeleteObject is atomic: readers see the old object or the new one.
- `put_if_absent` (If-None-Match: *) creates only if no object has the key; `put_if_match`
  (If-Match: etag) and `delete(key, etag)` act only on the version with that ETag. Either
  raises `PreconditionFailed` when the condition does not hold — S3's 412, a 409
  ConditionalRequestConflict (a concurrent conditional write won), or the object is gone.
- A conditional write whose first attempt landed but whose answer was lost is retried by
  AwsCaller and then fails its own precondition: on a 412 the object is read back, and if it
  holds exactly our body the write counts as done.
- A missing bucket is MissingResourceError; a missing key is `None` from `get`.
  On AWS, GetObject answers 403 instead of 404 for a missing key unless the caller may
  s3:ListBucket: the policy must grant it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bluegreen.aws.retry import AwsCaller
from bluegreen.errors import AwsError, BluegreenError, MissingResourceError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The codes that mean "the object is not the version you named".
_CONDITION_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


class PreconditionFailed(BluegreenError):
    """A conditional write or delete found the object changed, created, or gone."""


class S3Objects:
    """Objects in one S3 bucket, by key; bodies are bytes, versions are ETags (quoted, as S3
    gives them)."""

    def __init__(self, client: S3Client, aws: AwsCaller, bucket: str) -> None:
        self._client = client
        self._aws = aws
        self.bucket = bucket

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str) -> tuple[bytes, str] | None:
        """The object's body and ETag, or None if there is no object with that key."""
        try:
            with self._translated(key):
                resp = self._aws.call(
                    self.url(key), self._client.get_object, Bucket=self.bucket, Key=key
                )
        except AwsError as exc:
            if exc.code == "NoSuchKey":
                return None
            raise
        return resp["Body"].read(), resp["ETag"]

    def put(self, key: str, body: bytes) -> str:
        """Create or replace; the new ETag."""
        with self._translated(key):
            resp = self._aws.call(
                self.url(key), self._client.put_object, Bucket=self.bucket, Key=key, Body=body
            )
        return resp["ETag"]

    def put_if_absent(self, key: str, body: bytes) -> str:
        """Create only if nothing has this key (PreconditionFailed otherwise); the new ETag."""
        return self._put_conditionally(key, body, {"IfNoneMatch": "*"})

    def put_if_match(self, key: str, body: bytes, etag: str) -> str:
        """Replace only the version `etag` (PreconditionFailed otherwise); the new ETag."""
        return self._put_conditionally(key, body, {"IfMatch": etag})

    def delete(self, key: str, etag: str | None = None) -> None:
        """Delete; with `etag`, only that version (PreconditionFailed if changed or gone).
        Without, deleting a missing key is not an error."""
        condition: dict[str, Any] = {"IfMatch": etag} if etag else {}
        try:
            with self._translated(key):
                self._aws.call(
                    self.url(key),
                    self._client.delete_object,
                    Bucket=self.bucket,
                    Key=key,
                    **condition,
                )
        except AwsError as exc:
            if exc.code != "NoSuchKey":
                raise
            if etag:  # S3 answers 404 to a conditional delete of a missing key
                raise PreconditionFailed(f"{self.url(key)} is gone") from exc

    def list(self, prefix: str) -> list[str]:
        """Every key under `prefix`, in S3's order (ascending UTF-8 bytes)."""
        keys: list[str] = []
        more: dict[str, Any] = {}  # ContinuationToken, from the second page on
        while True:
            with self._translated(prefix):
                page = self._aws.call(
                    self.url(prefix),
                    self._client.list_objects_v2,
                    Bucket=self.bucket,
                    Prefix=prefix,
                    **more,
                )
            keys.extend(item["Key"] for item in page.get("Contents", []))
            if not page.get("IsTruncated"):
                return keys
            more = {"ContinuationToken": page["NextContinuationToken"]}

    def _put_conditionally(self, key: str, body: bytes, condition: dict[str, Any]) -> str:
        try:
            with self._translated(key):
                resp = self._aws.call(
                    self.url(key),
                    self._client.put_object,
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    **condition,
                )
        except PreconditionFailed:
            landed = self.get(key)
            if landed is not None and landed[0] == body:
                return landed[1]  # our own earlier attempt landed: its answer was lost
            raise
        except AwsError as exc:
            # If-Match on a missing key answers 404: the version we read is gone.
            if exc.code == "NoSuchKey":
                raise PreconditionFailed(f"{self.url(key)} is gone") from exc
            raise
        return resp["ETag"]

    @contextmanager
    def _translated(self, key: str) -> Iterator[None]:
        """S3's bucket and condition errors, turned into ours. A missing key stays an AwsError
        (code NoSuchKey): what it means depends on the call."""
        try:
            yield
        except AwsError as exc:
            if exc.code == "NoSuchBucket":
                raise MissingResourceError(
                    f"the S3 bucket {self.bucket} does not exist (state.backend)",
                    hint=f"create the bucket (aws s3 mb s3://{self.bucket}) or fix "
                    "state.backend in the configuration",
                ) from exc
            if exc.code in _CONDITION_CODES:
                raise PreconditionFailed(
                    f"{self.url(key)} changed: {exc.code} ({exc.operation})"
                ) from exc
            raise
