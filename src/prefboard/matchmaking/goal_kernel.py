"""Compiled cells of `matchmaking.goal`: each target's entropy drop from one battle of a pair.

The numpy formula made a dozen (targets, pairs) temporaries per block, most of the plan
stage's time on a 300-model board. These kernels form cross, the new variance, the ratio and
scipy's own ``ndtr`` per cell without temporaries and give the same bits:

- ``ndtr`` is scipy's float64 ``cython_special`` function, called through its address, not
  a re-implementation;
- the logs stay numpy's: its float64 ``np.log`` has its own SIMD code whose last bit differs
  from libm's ``log`` (which numba calls) on ~0.6 % of values, so :func:`entropy_inputs`
  writes the log arguments to a buffer that numpy logs in place, and :func:`drop_sums` /
  :func:`drops` finish;
- no fastmath, so no FMA contraction: each operation rounds as numpy's ufunc did.
"""

from __future__ import annotations

import ctypes
import importlib
import math
from typing import Any

import llvmlite.binding as llvm
import numpy as np
from numba import config as numba_config
from numba import types
from numba.extending import get_cython_function_address
from scipy import special

from prefboard.jit import njit

__all__ = ["drop_sums", "drops", "entropy_inputs", "log_in_place"]

_NDTR_SIGNATURE = b"double (double, int __pyx_skip_dispatch)"
# cython_special's fused ndtr: one member per argument type (complex, float64), numbered by
# Cython; the float64 one is found by its C signature, not by its number.
_NDTR_CAPI = ("__pyx_fuse_1ndtr", "__pyx_fuse_0ndtr", "ndtr")
_NDTR_SYMBOL = "prefboard_scipy_ndtr_f64"


def _ndtr_address() -> int:
    """The address of scipy's float64 ``ndtr``: the member of its fused variants whose C
    signature is float64's (a scipy that renumbered them is still read right; one with none
    fails here rather than call the complex one)."""
    capi = importlib.import_module("scipy.special.cython_special").__pyx_capi__
    name_of = ctypes.pythonapi.PyCapsule_GetName
    name_of.restype, name_of.argtypes = ctypes.c_char_p, [ctypes.py_object]
    for name in _NDTR_CAPI:
        if name in capi and name_of(capi[name]) == _NDTR_SIGNATURE:
            return int(get_cython_function_address("scipy.special.cython_special", name))
    raise ImportError("scipy.special.cython_special exports no float64 ndtr")


def _ndtr_python(x: float, skip_dispatch: int) -> float:
    """With numba's JIT off (``NUMBA_DISABLE_JIT=1``) the kernels run as Python and call the
    same scipy function through its ufunc (an external function exists only in compiled
    code)."""
    return float(special.ndtr(x))


# Typed Any: a numba type, called only inside compiled code (mypy sees Type.__call__).
_ndtr: Any = _ndtr_python
if not getattr(numba_config, "DISABLE_JIT", False):  # set from the environment at import
    # Bound by name, not by a constant address, so the kernels can be cached: the cached code
    # is linked against this symbol again in each process.
    llvm.add_symbol(_NDTR_SYMBOL, _ndtr_address())
    _ndtr = types.ExternalFunction(_NDTR_SYMBOL, types.float64(types.float64, types.intc))

# A cell whose new variance is the target's old one (the battle moves it less than its last
# bit): its probability, hence its entropy, is the one before, so its drop is before - before
# and its ndtr is skipped. Probabilities are >= 0 (or NaN), so -1 cannot be one.
_UNMOVED = -1.0


@njit(cache=True, nogil=True)
def _maximum(a: float, b: float) -> float:
    """``np.maximum`` on two floats: NaN in ``a`` wins (``b`` is never NaN here)."""
    return a if (a >= b or a != a) else b


@njit(cache=True, nogil=True)
def entropy_inputs(
    w: np.ndarray,
    v: np.ndarray,
    m_abs: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    shrink: np.ndarray,
    p: np.ndarray,
    logs: np.ndarray,
) -> None:
    """For each (target t, pair c): ``p[t, c] = ndtr(|m_t| / sqrt(v_new))`` with ``v_new =
    max(v_t - (w[t, i_c] - w[t, j_c])**2 * shrink_c, 1e-300)``, and the arguments of the
    entropy's two logs in ``logs[0]`` and ``logs[1]`` (p and 1 - p, or 1 where the numpy
    formula masked the log to 0: log(1) is 0 exactly)."""
    for t in range(v.size):
        wt, vt, mt, pt = w[t], v[t], m_abs[t], p[t]
        # Two passes over the row: the first (no calls) vectorises the gathers, the square
        # root and the division; the second calls ndtr. ~20 % fewer cycles than one pass.
        for c in range(i.size):
            cross = wt[i[c]] - wt[j[c]]
            v_new = _maximum(vt - cross * cross * shrink[c], 1e-300)
            pt[c] = _UNMOVED if v_new == vt else mt / math.sqrt(v_new)
        for c in range(i.size):
            if pt[c] == _UNMOVED:  # a ratio is >= 0 or NaN, never -1
                logs[0, t, c], logs[1, t, c] = 1.0, 1.0
                continue
            q = _ndtr(pt[c], 0)
            r = 1.0 - q
            pt[c] = q
            logs[0, t, c] = q if q > 0.0 else 1.0
            logs[1, t, c] = r if r > 0.0 else 1.0


def log_in_place(logs: np.ndarray) -> None:
    """numpy's own log of the entropy inputs (see the module docstring for why numpy's)."""
    np.log(logs, out=logs)


@njit(cache=True, nogil=True)
def _drop(p: float, lp: float, lr: float, before: float) -> float:
    """One target's entropy drop: ``max(before - H(p), 0)``, H as ``-(p log p + r log r)``."""
    if p == _UNMOVED:
        return _maximum(before - before, 0.0)
    r = 1.0 - p
    after = -(p * lp + r * lr)
    return _maximum(before - after, 0.0)


@njit(cache=True, nogil=True)
def drop_sums(p: np.ndarray, logs: np.ndarray, before: np.ndarray, out: np.ndarray) -> None:
    """``out[c] = sum_t drop[t, c]`` added row by row, as numpy's ``.sum(axis=0)`` adds a
    C-ordered array of >= 2 columns (a single column numpy sums pairwise: use :func:`drops`)."""
    for c in range(out.size):
        out[c] = 0.0
    for t in range(before.size):
        for c in range(out.size):
            d = _drop(p[t, c], logs[0, t, c], logs[1, t, c], before[t])
            out[c] = d if t == 0 else out[c] + d


@njit(cache=True, nogil=True)
def drops(p: np.ndarray, logs: np.ndarray, before: np.ndarray, out: np.ndarray) -> None:
    """``out[t, c]``: each target's drop for each pair."""
    for t in range(before.size):
        for c in range(out.shape[1]):
            out[t, c] = _drop(p[t, c], logs[0, t, c], logs[1, t, c], before[t])
