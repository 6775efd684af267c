"""The news archive's storage: Parquet datasets on local disk or any S3-compatible store.

    from storage import open_archive
    archive = open_archive("archive")                   # or file:///data/archive, s3://bucket/prefix
    run = archive.begin_run(run_id)
    if run.claim(article_id, content_hash)[0] == "new":
        run.accept("articles", row)                      # journaled + fsynced on return
        run.accept_grouped("articles", row)              # a Future: done once its batch is fsynced
    run.flush(); run.commit(summary)                     # manifest written last

See docs/STORAGE.md for the guarantees and the commit protocol.
"""

from __future__ import annotations

from .errors import (  # noqa: F401
    ArchiveConfigError,
    ArchiveError,
    CorruptFile,
    InvalidRow,
    JournalFull,
    LockTimeout,
    NotDurable,
    NotFound,
    StoreUnavailable,
)

_ARCHIVE_OPTIONS = ("journal_dir", "journal_max_bytes", "lock_timeout", "publish_timeout",
                    "retry_initial", "retry_max", "journal_group_rows", "journal_group_ms")


def open_archive(uri: str, **options):
    """Open the archive at ``uri`` (a path, ``file://`` or ``s3://bucket/prefix``).

    Archive options: ``journal_dir``, ``journal_max_bytes``, ``lock_timeout``, ``publish_timeout``,
    ``retry_initial``, ``retry_max``, ``journal_group_rows`` / ``journal_group_ms`` (a batch of
    ``Run.accept_grouped`` is fsynced once that many rows wait or that long after its first). Any other keyword goes to the backend (for S3:
    ``endpoint_url``, ``region_name``, ``addressing_style``, ``profile_name``).
    """
    from .archive import Archive
    from .backends import get_backend

    archive_opts = {k: options.pop(k) for k in list(options) if k in _ARCHIVE_OPTIONS}
    return Archive(get_backend(uri, **options), **archive_opts)


__all__ = ["open_archive", "ArchiveError", "ArchiveConfigError", "StoreUnavailable", "JournalFull",
           "CorruptFile", "InvalidRow", "LockTimeout", "NotDurable", "NotFound"]
