"""The archive in an S3 bucket (AWS or any S3-compatible store: SeaweedFS, MinIO, R2, ...).

Credentials come from the standard AWS chain only (environment, shared config/profile,
container or instance role), never from the URI, and are never logged. ``AWS_ENDPOINT_URL``
(or ``AWS_ENDPOINT_URL_S3``, or the ``endpoint_url`` option) points at an S3-compatible store;
with a custom endpoint, path-style addressing is the default (``ARCHIVE_S3_ADDRESSING_STYLE``
= path | virtual | auto overrides it).

Publish is create-only: ``put_object(IfNoneMatch="*")``, or for big files a multipart upload
completed with ``IfNoneMatch="*"``; an object appears whole or not at all. The archive lock is
the object ``_state/lock.json`` created with ``IfNoneMatch="*"``, a lease: a holder that died is
taken over once the lock is older (by the store's clock) than ``lock_lease`` seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from ..errors import ArchiveConfigError, LockTimeout, NotFound, StoreUnavailable
from ..faults import fault
from ..procs import pid_alive, pid_start
from .base import Backend, ObjectInfo, check_key, names_run

MULTIPART_THRESHOLD = 64 * 1024 * 1024
PART_SIZE = 16 * 1024 * 1024
LOCK_KEY = "_state/lock.json"


def _holder_died_here(info: dict) -> bool:
    """A lock taken on this machine by a process that no longer runs: no need to wait for its lease."""
    if info.get("host") != socket.gethostname() or not isinstance(info.get("pid"), int):
        return False
    return not pid_alive(info["pid"], info.get("pid_start") or "")


class S3Backend(Backend):
    scheme = "s3"

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region_name: str | None = None, addressing_style: str | None = None,
                 profile_name: str | None = None, lock_lease: float = 120.0,
                 connect_timeout: float = 5.0, read_timeout: float = 60.0, max_attempts: int = 3):
        try:
            import boto3
            import botocore.config
            import botocore.exceptions
        except ImportError as exc:  # the driver is optional: only this backend needs it
            raise ArchiveConfigError(f"s3:// archives need boto3 (pip install boto3): {exc}") from exc
        self._botocore_exc = botocore.exceptions
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.display_uri = f"s3://{bucket}/{self.prefix}".rstrip("/")
        endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        style = addressing_style or os.environ.get("ARCHIVE_S3_ADDRESSING_STYLE") or ("path" if endpoint_url else "auto")
        if style not in ("path", "virtual", "auto"):
            raise ArchiveConfigError(f"addressing style {style!r} is not path, virtual or auto",
                                     "ARCHIVE_S3_ADDRESSING_STYLE")
        self.session = boto3.Session(profile_name=profile_name, region_name=region_name)
        config = botocore.config.Config(
            s3={"addressing_style": style},
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self.client = self.session.client("s3", endpoint_url=endpoint_url, config=config)
        self.endpoint_url = self.client.meta.endpoint_url
        self.addressing_style = style
        self.lock_lease = lock_lease
        self._abandoned: set[str] = set()  # tokens of our locks we could not release (store down)
        # Two stores with the same bucket name must not share a journal folder.
        self.identity = f"{self.display_uri} {self.endpoint_url}"

    @classmethod
    def from_uri(cls, uri: str, **options):
        parts = urlsplit(uri)
        if parts.username or parts.password or "@" in parts.netloc:
            raise ArchiveConfigError("credentials do not belong in the archive URI; use the AWS "
                                     "environment variables, a profile or an instance role")
        if not parts.netloc:
            raise ArchiveConfigError("s3 URI needs a bucket: s3://bucket/prefix")
        if parts.query or parts.fragment:
            raise ArchiveConfigError("s3 URI takes no query or fragment; pass options instead")
        return cls(parts.netloc, parts.path, **options)

    # ------------------------------------------------------------------ helpers
    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _rel(self, full: str) -> str:
        return full[len(self.prefix) + 1:] if self.prefix else full

    @staticmethod
    def _code(exc) -> str:
        return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))

    @staticmethod
    def _status(exc) -> int:
        return int(getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)

    @contextlib.contextmanager
    def _calls(self, operation: str, key: str = ""):
        """Map every driver failure to ``StoreUnavailable`` (data stays journaled, retried later)."""
        try:
            yield
        except self._botocore_exc.ClientError as exc:
            if self._code(exc) in ("NoSuchKey", "404", "NotFound"):
                raise NotFound(key) from None
            raise StoreUnavailable(self.display_uri, f"{operation} {key}", f"{self._code(exc)} "
                                   f"(HTTP {self._status(exc)})") from None
        except (self._botocore_exc.BotoCoreError, OSError) as exc:
            raise StoreUnavailable(self.display_uri, f"{operation} {key}", type(exc).__name__ + ": " +
                                   str(exc).split("\n")[0][:200]) from None

    def _precondition_failed(self, exc) -> bool:
        return self._status(exc) == 412 or self._code(exc) == "PreconditionFailed"

    # ------------------------------------------------------------------ contract
    def put_bytes(self, key: str, data: bytes) -> bool:
        full = self._key(key)
        with self._calls("put", key):
            try:
                self.client.put_object(Bucket=self.bucket, Key=full, Body=data, IfNoneMatch="*")
            except self._botocore_exc.ClientError as exc:
                if self._precondition_failed(exc):
                    return False
                raise
        fault("s3.after_put")
        return True

    def put_file(self, local_path: str, key: str) -> bool:
        size = os.path.getsize(local_path)
        if size <= MULTIPART_THRESHOLD:
            with open(local_path, "rb") as fh:
                return self.put_bytes(key, fh.read())
        return self._put_multipart(local_path, key)

    def _put_multipart(self, local_path: str, key: str) -> bool:
        full = self._key(key)
        with self._calls("multipart put", key):
            upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=full)["UploadId"]
            try:
                parts = []
                with open(local_path, "rb") as fh:
                    for number, chunk in enumerate(iter(lambda: fh.read(PART_SIZE), b""), start=1):
                        etag = self.client.upload_part(Bucket=self.bucket, Key=full, UploadId=upload,
                                                       PartNumber=number, Body=chunk)["ETag"]
                        parts.append({"ETag": etag, "PartNumber": number})
                self.client.complete_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload,
                                                      MultipartUpload={"Parts": parts}, IfNoneMatch="*")
            except self._botocore_exc.ClientError as exc:
                with contextlib.suppress(Exception):
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload)
                if self._precondition_failed(exc):
                    return False
                raise
        fault("s3.after_put")
        return True

    def put_bytes_overwrite(self, key: str, data: bytes) -> None:
        with self._calls("put", key):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def get_bytes(self, key: str) -> bytes:
        with self._calls("get", key):
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()

    def download(self, key: str, local_path: str) -> None:
        with self._calls("get", key):
            self.client.download_file(self.bucket, self._key(key), local_path)

    def exists(self, key: str) -> bool:
        try:
            with self._calls("head", key):
                self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except NotFound:
            return False

    def list(self, prefix: str, exact: bool = False) -> list[ObjectInfo]:
        if exact:
            with self._calls("head", prefix):
                try:
                    head = self.client.head_object(Bucket=self.bucket, Key=self._key(prefix))
                except self._botocore_exc.ClientError as exc:
                    if self._status(exc) == 404:
                        return []
                    raise
            return [ObjectInfo(prefix, head["ContentLength"], head["LastModified"].timestamp())]
        full = self._key(prefix) if prefix else (self.prefix + "/" if self.prefix else "")
        out = []
        with self._calls("list", prefix):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
                for obj in page.get("Contents", []):
                    out.append(ObjectInfo(self._rel(obj["Key"]), obj["Size"], obj["LastModified"].timestamp()))
        return sorted(out, key=lambda o: o.key)

    def delete(self, key: str) -> None:
        with self._calls("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    # ------------------------------------------------------------------ the lease lock
    @contextlib.contextmanager
    def lock(self, owner: str, timeout: float = 600.0):
        full = self._key(LOCK_KEY)
        token = uuid.uuid4().hex
        body = json.dumps({"owner": owner, "host": socket.gethostname(), "pid": os.getpid(),
                           "pid_start": pid_start(os.getpid()), "token": token,
                           "lease_s": self.lock_lease}).encode()
        start = time.monotonic()
        etag = None
        while etag is None:
            with self._calls("lock", LOCK_KEY):
                try:
                    etag = self.client.put_object(Bucket=self.bucket, Key=full, Body=body, IfNoneMatch="*")["ETag"]
                    break
                except self._botocore_exc.ClientError as exc:
                    if not (self._precondition_failed(exc) or self._status(exc) == 409):
                        raise
                holder = self._break_if_stale(full)
            if time.monotonic() - start > timeout:
                raise LockTimeout(self.display_uri, holder, time.monotonic() - start)
            time.sleep(0.1)
        try:
            yield
        finally:
            try:
                with self._calls("unlock", LOCK_KEY):
                    try:
                        self.client.delete_object(Bucket=self.bucket, Key=full, IfMatch=etag)
                    except self._botocore_exc.ClientError as exc:
                        if not self._precondition_failed(exc) and self._status(exc) != 404:
                            raise
            except StoreUnavailable:
                # The store went away while we held the lock: we may take it back at once later.
                self._abandoned.add(token)

    def _break_if_stale(self, full: str) -> str:
        """Delete the lock if it is older than its lease by the store's own clock."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=full)
        except self._botocore_exc.ClientError as exc:
            if self._status(exc) == 404:
                return "nobody"
            raise
        info = json.loads(response["Body"].read() or b"{}")
        now = parsedate_to_datetime(response["ResponseMetadata"]["HTTPHeaders"]["date"])
        age = (now - response["LastModified"]).total_seconds()
        holder = f"{info.get('owner')} on {info.get('host')} pid {info.get('pid')} ({age:.0f}s)"
        if (age > float(info.get("lease_s", self.lock_lease)) or info.get("token") in self._abandoned
                or _holder_died_here(info)):
            try:  # only that stale lock: if another writer replaced it meanwhile, its etag differs
                self.client.delete_object(Bucket=self.bucket, Key=full, IfMatch=response["ETag"])
            except self._botocore_exc.ClientError as exc:
                if not (self._precondition_failed(exc) or self._status(exc) == 404):
                    raise
        return holder

    # ------------------------------------------------------------------ readers, leftovers
    def arrow_filesystem(self):
        from pyarrow.fs import S3FileSystem

        creds = self.session.get_credentials()
        frozen = creds.get_frozen_credentials() if creds is not None else None
        endpoint = urlsplit(self.endpoint_url)
        kwargs = {"region": self.client.meta.region_name or "us-east-1"}
        if frozen is not None:
            kwargs.update(access_key=frozen.access_key, secret_key=frozen.secret_key,
                          session_token=frozen.token)
        else:
            kwargs["anonymous"] = True
        if not endpoint.netloc.endswith("amazonaws.com"):
            kwargs.update(endpoint_override=endpoint.netloc, scheme=endpoint.scheme)
        if self.addressing_style == "virtual":
            kwargs["force_virtual_addressing"] = True
        root = f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket
        return S3FileSystem(**kwargs), root

    def temporaries(self) -> list[str]:
        out = []
        with self._calls("list uploads"):
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for up in page.get("Uploads", []):
                    out.append(f"{self._rel(up['Key'])} (unfinished multipart upload {up['UploadId']})")
        return out

    def remove_temporaries(self, older_than: float = 0.0, run_id: str | None = None) -> int:
        removed = 0
        with contextlib.suppress(StoreUnavailable), self._calls("list uploads"):
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for up in page.get("Uploads", []):
                    name = up["Key"].rsplit("/", 1)[-1]
                    old = time.time() - up["Initiated"].timestamp() >= older_than
                    if (run_id and names_run(name, run_id)) or (run_id is None and old):
                        self.client.abort_multipart_upload(Bucket=self.bucket, Key=up["Key"],
                                                           UploadId=up["UploadId"])
                        removed += 1
        return removed
