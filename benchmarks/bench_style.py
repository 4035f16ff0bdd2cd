"""Recovery and interval coverage of the style coefficients (rating/style_fit.py).

Conditions (printed with each row): 10 models with skills N(25, 3^2), TrueSkill beta = 25/6,
draw margin 1.0 (about 13 % ties between equals); battles between uniform random pairs; two
covariates whose a - b differences are confounded with the models (each model has its own level,
sd 0.7, plus N(0, 1) per answer), with true effects gamma = (1.0, 0.0) skill points per unit.
The battles are drawn from the fit's own model (Thurstone performances, ties within the margin),
so the figures measure the estimator, not a model mismatch. For each battle count and seed: the
joint fit's gamma, its 95 % interval (estimate +- 1.96 Laplace sd), and whether it covers the
truth; for gamma = 0 the share of seeds whose interval excludes 0 is the false-flag rate.
Target: coverage 93-97 %, false flags 3-7 %, bias within 2 standard errors of 0.

Run: .venv/bin/python benchmarks/bench_style.py [--seeds N] [--battles N [N ...]]
(100 seeds at 5,000 and 20,000 battles: about 10 s here).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from prefboard.rating.style_fit import fit_style

MODELS, BETA, EPS = 10, 25 / 6, 1.0
GAMMA = np.array([1.0, 0.0])
LEVEL_SD = 0.7
Z95 = 1.959963984540054


def draw(seed: int, n: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    skill = rng.normal(25.0, 3.0, MODELS)
    level = rng.normal(0.0, LEVEL_SD, (MODELS, GAMMA.size))
    a = rng.integers(0, MODELS, n)
    b = rng.integers(0, MODELS - 1, n)
    b += b >= a
    z = level[a] - level[b] + rng.standard_normal((n, GAMMA.size))
    d = skill[a] - skill[b] + z @ GAMMA + rng.normal(0.0, math.sqrt(2.0) * BETA, n)
    outcome = np.where(d > EPS, 0, np.where(d < -EPS, 1, 2))
    return a, b, outcome, z


def run(n: int, seeds: int) -> None:
    est, sd = np.empty((seeds, GAMMA.size)), np.empty((seeds, GAMMA.size))
    start = time.perf_counter()
    for s in range(seeds):
        a, b, outcome, z = draw(1_000 + s, n)
        f = fit_style(
            MODELS, a, b, outcome, z, prior_mean=25.0, prior_sigma=25 / 3, beta=BETA,
            draw_margin=EPS,
        )  # fmt: skip
        est[s], sd[s] = f.gamma, f.gamma_sd
    seconds = (time.perf_counter() - start) / seeds
    covered = np.abs(est - GAMMA) <= Z95 * sd
    flagged = np.abs(est) > Z95 * sd
    for k, true in enumerate(GAMMA):
        bias = est[:, k].mean() - true
        se = est[:, k].std(ddof=1) / math.sqrt(seeds)
        rmse = math.sqrt(np.mean((est[:, k] - true) ** 2))
        flags = f", false flags {flagged[:, k].mean():.1%}" if true == 0 else ""
        print(
            f"{n:>7,} battles  gamma_{k + 1} = {true:.1f}: mean {est[:, k].mean():+.4f} "
            f"(bias {bias:+.4f} +- {se:.4f}), rmse {rmse:.4f}, mean sd {sd[:, k].mean():.4f}, "
            f"sd of estimates {est[:, k].std(ddof=1):.4f}, coverage {covered[:, k].mean():.1%}"
            f"{flags}  ({seconds * 1000:.0f} ms per fit)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--battles", type=int, nargs="+", default=[5_000, 20_000])
    args = parser.parse_args()
    print(
        f"{MODELS} models, beta {BETA:.3f}, draw margin {EPS}, gamma {GAMMA.tolist()}, model "
        f"level sd {LEVEL_SD}, {args.seeds} seeds per row"
    )
    for n in args.battles:
        run(n, args.seeds)


if __name__ == "__main__":
    main()
