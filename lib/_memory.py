"""Keep freed large arrays in the process's heap, so a fresh NumPy array costs no page faults.

The functional API returns fresh arrays: every step of every optimizer allocates its updates,
its new state and the new parameters, and frees the previous ones. glibc's ``malloc`` serves a
block above its *mmap threshold* (128 KiB at start, raised on the fly up to 32 MiB) with a
fresh ``mmap`` and gives memory back to the kernel once the free space at the top of the heap
exceeds its *trim threshold*. Either way, the next array of the same size starts on untouched
pages, and the kernel zeroes and maps them one 4 KiB page at a time on first write: for 10^6
float64 parameters that made one ``p + (-lr * g)`` cost 5.0 ms instead of 1.2 ms (measured on
the course's 2-core machine, ``benchmarks/optimizer_step.py``), more than the arithmetic.

:func:`keep_freed_memory` raises both thresholds with ``mallopt`` (glibc only), so a freed
parameter-sized array is reused by the next one. The cost is resident memory: up to
``TRIM_BYTES`` of freed memory stays with the process instead of going back to the system.
``import lib`` calls it once; set ``DESCENT_MALLOC=default`` to keep glibc's defaults (on
other C libraries, macOS and Windows it does nothing).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_BYTES = 32 * 2**20  # glibc's largest accepted mmap threshold on 64-bit (HEAP_MAX_SIZE / 2)
TRIM_BYTES = 512 * 2**20

_done: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once; True if they are raised (now or before)."""
    global _done
    if _done is not None:
        return _done
    _done = False
    if os.environ.get("DESCENT_MALLOC", "").lower() == "default" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt: nothing to tune
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_BYTES))
    return _done
