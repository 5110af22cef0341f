"""Plain data across the grader's process boundary (no pickle, ever).

The grader (:mod:`lib.grading`) and its sandboxed child (:mod:`lib.grading.worker`) exchange JSON
lines. Values are encoded as small JSON objects: numbers, strings, ``None``, tuples, lists and
dicts of them, and NumPy arrays of a numeric dtype written with ``numpy.lib.format`` and
``allow_pickle=False`` (base64). A :class:`~lib.exercises.Lazy` case input crosses as a
reference ``(exercise, seed, case, path)``: the child regenerates the exercise's cases from
:mod:`lib.exercises` and builds the object itself.

:func:`to_plain` is what the child applies to whatever the student's function returned: array
subclasses become base-class ``ndarray``, numeric scalars become Python / NumPy numbers, and
anything else (an object that claims to equal everything, a generator, a string subclass ...)
becomes ``{"t": "other", "type": name}``, which the parent decodes as
:class:`lib.checks.Opaque`. Nothing the child sends can run code in the parent.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import numpy as np

MAX_DEPTH = 16
MAX_ITEMS = 10_000
MAX_ARRAY_BYTES = 2**20  # no real reply holds a larger array (see records.REPLY_CAP)


class WireError(ValueError):
    """A message that is not valid plain data."""


def _array_to_b64(a: np.ndarray) -> str:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a if a.flags.c_contiguous else a.copy(order="C"), allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _array_from_b64(text: str) -> np.ndarray:
    """Decode an ``.npy`` payload, checking its header against the payload **before** anything is
    allocated: a forged header claiming an enormous shape is a :class:`WireError`, not a
    ``MemoryError``."""
    if not isinstance(text, str) or len(text) > (MAX_ARRAY_BYTES + 4096) * 4 // 3 + 4:
        raise WireError("array too large")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise WireError("malformed array payload") from None
    f = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(f)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(
            version
        )
        if read_header is None:
            raise WireError(f"unsupported array format version {version}")
        shape, fortran_order, dtype = read_header(f)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        raise WireError("malformed array header") from None
    if dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"not a numeric array: dtype {dtype}")
    if not isinstance(shape, tuple) or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
        raise WireError("malformed array shape")
    count = 1
    for n in shape:  # Python integers: no overflow, whatever the header claims
        count *= n
    offset = f.tell()
    if count * dtype.itemsize != len(raw) - offset or count * dtype.itemsize > MAX_ARRAY_BYTES:
        raise WireError(
            f"the array header claims shape {shape[:8]} of {dtype}, which does not match its "
            f"{len(raw) - offset} bytes of data"
        )
    a = np.frombuffer(raw, dtype=dtype, count=count, offset=offset)
    return a.reshape(shape, order="F" if fortran_order else "C").copy()


def _other(x: Any) -> dict:
    try:
        name = type(x).__name__
    except Exception:  # pragma: no cover - a hostile metaclass
        name = "object"
    return {"t": "other", "type": str.__str__(name)[:80] if isinstance(name, str) else "object"}


def encode(x: Any, lazy: Callable[[Any, tuple], dict] | None = None, _path: tuple = (), _depth: int = 0) -> dict:
    """Encode trusted case data (the parent's inputs). ``lazy(x, path)`` encodes a ``Lazy``."""
    from lib.exercises import Lazy

    if isinstance(x, Lazy):
        if lazy is None:
            raise WireError("a Lazy input needs a lazy encoder")
        return lazy(x, _path)
    return _plain(x, _path, _depth, lazy)


def to_plain(x: Any) -> dict:
    """Encode an untrusted value (what the student's function returned, or its inputs after
    the call). Never raises: anything that is not plain data becomes ``{"t": "other"}``."""
    try:
        return _plain(x, (), 0, None)
    except RecursionError:
        return {"t": "other", "type": "too deeply nested"}
    except Exception:
        return _other(x)


def _plain(x: Any, path: tuple, depth: int, lazy) -> dict:
    if depth > MAX_DEPTH:
        return {"t": "other", "type": "too deeply nested"}
    t = type(x)
    if x is None:
        return {"t": "none"}
    if t is bool or t is np.bool_:
        return {"t": "bool", "v": bool(x)}
    if t is int:
        return {"t": "int", "v": int.__repr__(x)} if abs(x) < 10**4000 else {"t": "other", "type": "huge int"}
    if t is float:
        return {"t": "float", "v": float.__repr__(x)}
    if t is complex:
        return {"t": "complex", "re": float.__repr__(x.real), "im": float.__repr__(x.imag)}
    if t is str:
        return {"t": "str", "v": x[:10_000]}
    if isinstance(x, np.generic) and t.__module__ == "numpy" and np.dtype(t).kind in "biufc":
        return {"t": "scalar", "b64": _array_to_b64(np.array(x, dtype=np.dtype(t)))}
    if isinstance(x, np.ndarray):
        a = np.array(x, subok=False, copy=True)  # base class, own data
        if type(a) is not np.ndarray or a.dtype.kind not in "biufc" or a.dtype.fields is not None:
            return {"t": "other", "type": f"ndarray of dtype {a.dtype}"[:80]}
        if a.nbytes > MAX_ARRAY_BYTES:
            return {"t": "other", "type": f"array too large ({a.nbytes} bytes)"}
        return {"t": "nd", "b64": _array_to_b64(a)}
    if isinstance(x, (tuple, list)):  # subclasses too: their own items are read, not their methods
        items = tuple.__iter__(x) if isinstance(x, tuple) else list.__iter__(x)
        values = []
        for i, v in enumerate(items):
            if i >= MAX_ITEMS:
                return {"t": "other", "type": "sequence too long"}
            values.append(encode(v, lazy, path + (i,), depth + 1) if lazy else _plain(v, path + (i,), depth + 1, None))
        return {"t": "tuple" if isinstance(x, tuple) else "list", "v": values}
    if isinstance(x, dict):
        if dict.__len__(x) > MAX_ITEMS:
            return {"t": "other", "type": "dict too long"}
        pairs = []
        for k, v in dict.items(x):
            if type(k) not in (str, int):
                return {"t": "other", "type": f"dict with a {type(k).__name__} key"}
            pairs.append(
                [
                    _plain(k, path, depth + 1, None),
                    encode(v, lazy, path + (k,), depth + 1) if lazy else _plain(v, path + (k,), depth + 1, None),
                ]
            )
        return {"t": "dict", "v": pairs}
    return _other(x)


def decode(obj: Any, lazy: Callable[[dict], Any] | None = None, _depth: int = 0) -> Any:
    """Decode a value; ``{"t": "other"}`` becomes :class:`lib.checks.Opaque` and a lazy reference
    is passed to ``lazy`` (the child's resolver). Raise :class:`WireError` on malformed data."""
    from lib.checks import Opaque

    if _depth > MAX_DEPTH + 2 or not isinstance(obj, dict):
        raise WireError("malformed value")
    t = obj.get("t")
    if t == "none":
        return None
    if t == "bool":
        return bool(obj["v"]) if isinstance(obj["v"], bool) else _bad()
    if t == "int":
        v = obj["v"]
        if not isinstance(v, str) or len(v) > 4100:
            _bad()
        return int(v)
    if t == "float":
        return float(_number_text(obj["v"]))
    if t == "complex":
        return complex(float(_number_text(obj["re"])), float(_number_text(obj["im"])))
    if t == "str":
        return str(obj["v"])[:10_000] if isinstance(obj["v"], str) else _bad()
    if t == "scalar":
        a = _array_from_b64(obj["b64"])
        return a[()] if a.ndim == 0 else _bad()
    if t == "nd":
        return _array_from_b64(obj["b64"])
    if t in ("list", "tuple"):
        items = obj["v"]
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            _bad()
        values = [decode(v, lazy, _depth + 1) for v in items]
        return values if t == "list" else tuple(values)
    if t == "dict":
        pairs = obj["v"]
        if not isinstance(pairs, list) or len(pairs) > MAX_ITEMS:
            _bad()
        out = {}
        for pair in pairs:
            if not isinstance(pair, list) or len(pair) != 2:
                _bad()
            k = decode(pair[0], None, _depth + 1)
            if type(k) not in (str, int):
                _bad()
            out[k] = decode(pair[1], lazy, _depth + 1)
        return out
    if t == "lazy":
        if lazy is None:
            return Opaque("function")
        return lazy(obj)
    if t == "other":
        return Opaque(str(obj.get("type", "object")))
    _bad()


def _number_text(v: Any) -> str:
    if not isinstance(v, str) or len(v) > 40:
        _bad()
    float(v)  # ValueError on nonsense
    return v


def _bad():
    raise WireError("malformed value")
