"""Integer index and label checks shared by the Python ops.

NumPy converts uint64 to int64 with wrap-around (same-kind casting), so a
uint64 index or class label above 2**63 - 1 silently becomes a negative
number: -1 picks the last row, -100 becomes cross_entropy's ignore_index.
Every op that turns caller integers into int64 checks them here first.
"""
import numpy as np

_I64_MAX = np.iinfo(np.int64).max


def check_int64_range(a, op, what="index", exc=IndexError):
    """Raise exc (naming op and what) when the integer array a holds a value
    that int64 cannot represent; return a unchanged otherwise."""
    if isinstance(a, np.ndarray) and a.dtype.kind == "u" and a.dtype.itemsize >= 8 and a.size:
        top = a.max()
        if top > _I64_MAX:
            raise exc("%s: %s %d (dtype %s) does not fit in int64 (at most %d); "
                      "it would wrap to %d" % (op, what, int(top), a.dtype, _I64_MAX,
                                               int(np.array(top).astype(np.int64))))
    return a
