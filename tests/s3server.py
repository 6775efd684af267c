"""A real SeaweedFS S3 server on 127.0.0.1 for the storage tests (no mocked S3).

``SeaweedS3(tmpdir).start()`` runs ``weed server -s3`` with its data in ``tmpdir``, free ports on
loopback, credentials from an s3 config JSON, waits until a bucket can be created, and is stopped
by its process id (``stop``); ``start`` again reuses the same data and ports (outage tests).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.processes import die_with_parent, free_ports, stop_process


def weed_binary() -> str | None:
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.exists() else shutil.which("weed")


class SeaweedS3:
    def __init__(self, workdir: str | os.PathLike, bucket: str = "archive-test"):
        self.workdir = Path(workdir)
        self.data = self.workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.bucket = bucket
        self.access_key = "test" + secrets.token_hex(4)
        self.secret_key = secrets.token_hex(16)
        (self.workdir / "s3.json").write_text(json.dumps({"identities": [{
            "name": "tester",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        self._pick_ports()
        self.started = False  # once up, a restart (outage tests) keeps its ports and data
        self.proc: subprocess.Popen | None = None
        self.log = self.workdir / "weed.log"

    def _pick_ports(self) -> None:
        (self.master, self.master_grpc, self.volume, self.volume_grpc, self.filer, self.filer_grpc,
         self.s3, self.s3_grpc) = free_ports(8)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3}"

    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_ENDPOINT_URL": self.endpoint, "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true"}

    def client(self):
        import boto3
        import botocore.config

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name="us-east-1",
                            config=botocore.config.Config(s3={"addressing_style": "path"},
                                                          retries={"max_attempts": 1}))

    def start(self, timeout: float = 60.0) -> "SeaweedS3":
        """Start and wait until a bucket can be written. A first start whose port another process
        took in the meantime ("address already in use") is tried again on new ports (3 times)."""
        for attempt in range(3):
            try:
                return self._start(timeout)
            except RuntimeError as exc:
                if self.started or "address already in use" not in str(exc) or attempt == 2:
                    raise
                self.stop()
                shutil.rmtree(self.data, ignore_errors=True)
                self.data.mkdir(parents=True)
                self._pick_ports()
        raise AssertionError("unreachable")

    def _start(self, timeout: float) -> "SeaweedS3":
        cmd = [weed_binary(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.data}",
               f"-master.port={self.master}", f"-master.port.grpc={self.master_grpc}",
               "-master.volumeSizeLimitMB=64", "-master.telemetry=false", "-master.electionTimeout=1s",
               f"-volume.port={self.volume}", f"-volume.port.grpc={self.volume_grpc}",
               "-volume.max=16", "-volume.preStopSeconds=0",
               "-filer", f"-filer.port={self.filer}", f"-filer.port.grpc={self.filer_grpc}",
               "-s3", f"-s3.port={self.s3}", f"-s3.port.grpc={self.s3_grpc}",
               "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={self.workdir / 's3.json'}"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                         start_new_session=True, preexec_fn=die_with_parent)
        deadline = time.monotonic() + timeout
        client = self.client()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                try:
                    client.create_bucket(Bucket=self.bucket)
                except client.exceptions.BucketAlreadyOwnedByYou:
                    pass
                except client.exceptions.BucketAlreadyExists:
                    pass
                client.put_object(Bucket=self.bucket, Key="_ready", Body=b"1")
                client.delete_object(Bucket=self.bucket, Key="_ready")
                self.started = True
                return self
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"SeaweedFS not ready in {timeout}s: {self.log.read_text()[-2000:]}")
                time.sleep(0.3)

    def stop(self) -> None:
        """Stop the server by its process id (SIGTERM, then SIGKILL)."""
        proc, self.proc = self.proc, None
        stop_process(proc, grace=1)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
