"""The backtracking line search of the damped Newton fits (batch posterior, style fit)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def backtrack(
    objective: Callable[[np.ndarray], float],
    x: np.ndarray,
    step: np.ndarray,
    f: float,
    slope: float,
    slack: float = 0.0,
) -> tuple[np.ndarray, float, float]:
    """Halve ``step`` until the Armijo condition holds (sufficient decrease, c = 1e-4), or
    until the step is negligible; returns the new point, its objective and the step's
    fraction. ``slack`` tolerates an increase of that much: the rounding of an objective summed
    over many terms, which near the mode exceeds the decrease Armijo asks for."""
    t = 1.0
    while True:
        trial = x + t * step
        f_trial = objective(trial)
        if f_trial <= f + 1e-4 * t * slope + slack or t < 1e-12:
            return trial, f_trial, t
        t *= 0.5
