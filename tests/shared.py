"""Where the real pages of ../shared/data are, for tests that read them in place.

On CI (env CI set) a missing folder is a failure: the tests that need it must
run there. On a clone without ../shared they are skipped with a clear message.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f"real-page data not found at {path} (expected ../shared/data beside the repository)"
        if os.environ.get("CI"):
            pytest.fail(message + "; on CI it must be present", pytrace=False)
        pytest.skip(message)
    return path
