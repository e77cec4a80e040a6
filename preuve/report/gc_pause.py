"""The cyclic garbage collector held off while the reports are written.

At the end of a run the process holds ~160,000 tracked objects (pytest's items, the results, the observations);
the reports allocate tens of thousands of short-lived containers (parsed results, OSCAL and SARIF documents, the
template's context), enough to trigger a full collection that walks all of them: ~50-80 ms of a 100-endpoint run,
for nothing, since what the writers allocate is freed by reference counting. Collection resumes afterwards.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic collection inside the block (nesting is fine; a collector already disabled stays so)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
