"""Typed errors of the storage package; each carries its inputs, none carries credentials."""

from __future__ import annotations


class ArchiveError(Exception):
    """Base class of every error raised by ``storage``."""


class ArchiveConfigError(ArchiveError, ValueError):
    """Bad configuration (unknown scheme, bad URI, missing driver): fails at start-up."""

    def __init__(self, message: str, setting: str = "ARCHIVE_URI"):
        super().__init__(f"{setting}: {message}")
        self.setting = setting


class InvalidRow(ArchiveError, ValueError):
    """A row handed to ``Run.accept`` does not fit its dataset's schema."""

    def __init__(self, dataset: str, message: str):
        super().__init__(f"{dataset}: {message}")
        self.dataset = dataset


class StoreUnavailable(ArchiveError):
    """The store did not answer (down, network, expired credentials). Retry later."""

    def __init__(self, display_uri: str, operation: str, cause: BaseException | str):
        super().__init__(f"{display_uri}: {operation} failed: {cause}")
        self.display_uri = display_uri
        self.operation = operation
        self.cause = cause


class JournalFull(ArchiveError):
    """The local journal could not take another row (disk full, size cap, file size limit)."""

    def __init__(self, path: str, cause: BaseException | str):
        super().__init__(
            f"journal {path} is full ({cause}); rows accepted so far are safe and will be "
            f"published; free space or set ARCHIVE_JOURNAL_DIR/ARCHIVE_JOURNAL_MAX_BYTES"
        )
        self.path = path
        self.cause = cause


class NotDurable(ArchiveError):
    """A batch of journal records could not be made durable: none of its rows is acknowledged."""

    def __init__(self, journal: str, rows: int, cause: BaseException):
        super().__init__(
            f"journal {journal}: a batch of {rows} rows could not be written and fsynced "
            f"({type(cause).__name__}: {cause}); none of them is acknowledged (rows acknowledged "
            f"before are safe and will be published)"
        )
        self.journal = journal
        self.rows = rows
        self.cause = cause


class LockTimeout(ArchiveError):
    """The archive lock stayed taken by another writer for too long."""

    def __init__(self, display_uri: str, holder: str, waited: float):
        super().__init__(f"{display_uri}: archive lock held by {holder} for {waited:.0f}s")
        self.holder = holder


class CorruptFile(ArchiveError):
    """A file in the archive cannot be read as the Parquet it should be."""

    def __init__(self, key: str, cause: BaseException | str):
        super().__init__(f"corrupt archive file {key}: {cause}")
        self.key = key
        self.cause = cause


class NotFound(ArchiveError, KeyError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"not found: {self.key}"
