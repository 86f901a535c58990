"""Gradient assembly, bound-constrained L-BFGS with explicit state, trial-step line search.

The inversion runs one DAG node per step, so nothing lives in memory between
steps: the L-BFGS history (pairs s = x_k+1 - x_k, y = g_k+1 - g_k), the
current model, gradient, misfit and search direction form an
:class:`LBFGSState` that is written to and read from HDF5. One iteration:

1. :func:`assemble_gradient` sums the kernels over pairs and filters, times the cell areas;
   :func:`smooth_on_sphere` applies Gaussian smoothing with a length scale.
2. :func:`prepare_step` adds the newest (s, y) pair and computes the search
   direction by the two-loop recursion on the free variables (weights at a
   bound whose gradient points outward are held fixed), i.e. projected L-BFGS.
3. :func:`trial_steps` gives a few step lengths; the models
   P(x + alpha d) (P clips to the bounds, so weights stay >= 0) are evaluated
   as separate jobs.
4. :func:`choose_step` fits a parabola through the misfit at alpha = 0 and the
   trials around the best one and returns its safeguarded minimum;
   :func:`step_model` gives the next model.

:func:`converged` tests the relative misfit improvement. :func:`invert` runs
the whole loop in memory, stage by stage (each stage may add filters and
change the smoothing length, and restarts the L-BFGS history).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import h5py
import numpy as np

from seismake.fileio import atomic_output
from seismake.noisi.forward import GreensSpectra, correlate
from seismake.noisi.grid import great_circle_m
from seismake.noisi.kernels import compute_kernels
from seismake.noisi.measure import Measurement, MeasurementConfig, measure
from seismake.noisi.sources import SourceModel

logger = logging.getLogger(__name__)

_SMOOTH_CHUNK_ELEMENTS = 2**23


def assemble_gradient(
    kernels: np.ndarray, surface_areas_m2: np.ndarray, filter_weights: np.ndarray | None = None
) -> np.ndarray:
    """Misfit gradient with respect to the source weights.

    Parameters
    ----------
    kernels : np.ndarray
        Kernel densities, shape (npairs, nbasis, nfilters, ntraces).
    surface_areas_m2 : np.ndarray
        Cell areas, shape (ntraces,).
    filter_weights : np.ndarray, optional
        Weight per filter, shape (nfilters,); ones by default.

    Returns
    -------
    np.ndarray
        dJ/dm, shape (ntraces, nbasis).
    """
    weights = np.ones(kernels.shape[2]) if filter_weights is None else np.asarray(filter_weights)
    summed = np.einsum("pbmk,m->kb", kernels, weights)
    return summed * np.asarray(surface_areas_m2)[:, None]


def smooth_on_sphere(
    values: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    length_m: float,
    surface_areas_m2: np.ndarray | None = None,
) -> np.ndarray:
    """Gaussian smoothing on the sphere.

    out_k = sum_j exp(-d_kj^2 / (2 L^2)) A_j v_j / sum_j exp(-d_kj^2 / (2 L^2)) A_j,
    with d the great-circle distance on the mean Earth radius.

    Parameters
    ----------
    values : np.ndarray
        Shape (ntraces,) or (ntraces, ncols).
    lon, lat : np.ndarray
        Grid in degrees, shape (ntraces,).
    length_m : float
        Smoothing length L in metres; 0 returns a copy.
    surface_areas_m2 : np.ndarray, optional
        Cell areas used as integration weights; equal weights by default.
    """
    values = np.asarray(values, dtype=float)
    if length_m <= 0:
        return values.copy()
    n = lon.size
    areas = np.ones(n) if surface_areas_m2 is None else np.asarray(surface_areas_m2)
    flat = values.reshape(n, -1)
    out = np.empty_like(flat)
    chunk = max(1, _SMOOTH_CHUNK_ELEMENTS // n)
    for start in range(0, n, chunk):
        rows = slice(start, start + chunk)
        d = great_circle_m(lat[rows, None], lon[rows, None], lat[None, :], lon[None, :])
        w = np.exp(-0.5 * (d / length_m) ** 2) * areas[None, :]
        out[rows] = (w @ flat) / w.sum(axis=1, keepdims=True)
    return out.reshape(values.shape)


def write_gradient(path: str | Path, gradient: np.ndarray, unsmoothed: np.ndarray) -> None:
    """Write the smoothed and the raw gradient, each (ntraces, nbasis), to HDF5, atomically."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("gradient", data=gradient)
        f.create_dataset("unsmoothed", data=unsmoothed)


def read_gradient(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed and raw gradient written by :func:`write_gradient`."""
    path = Path(path)
    with h5py.File(path, "r") as f:
        missing = [k for k in ("gradient", "unsmoothed") if k not in f]
        if missing:
            raise ValueError(f"{path}: missing dataset(s) {', '.join(missing)}")
        return f["gradient"][()], f["unsmoothed"][()]


@dataclass
class LBFGSState:
    """Everything an L-BFGS iteration needs, serialisable to HDF5.

    Attributes
    ----------
    memory : int
        Number of (s, y) pairs kept.
    lower, upper : float
        Bounds of every model parameter (``upper`` may be inf).
    s, y : np.ndarray
        History, oldest first, shape (nhistory, nparams).
    x, g : np.ndarray or None
        Current model and (smoothed) gradient, shape (nparams,).
    misfit : float
        Misfit of ``x``.
    direction : np.ndarray or None
        Search direction from ``x``, shape (nparams,).
    alpha_base : float
        Reference step length for the trials.
    iteration : int
        Number of directions computed so far.
    """

    memory: int = 5
    lower: float = 0.0
    upper: float = np.inf
    s: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    y: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    x: np.ndarray | None = None
    g: np.ndarray | None = None
    misfit: float = np.nan
    direction: np.ndarray | None = None
    alpha_base: float = 1.0
    iteration: int = 0

    @property
    def n_history(self) -> int:
        """Number of stored (s, y) pairs."""
        return int(self.s.shape[0])


def project(x: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Clip parameters to [lower, upper]."""
    return np.clip(x, lower, upper)


def free_variables(x: np.ndarray, g: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Mask of parameters not held at a bound (a parameter at a bound whose
    negative gradient points outward is fixed)."""
    scale = max(1.0, float(np.max(np.abs(x)))) if x.size else 1.0
    tol = 1e-12 * scale
    at_lower = (x <= lower + tol) & (g > 0)
    at_upper = (x >= upper - tol) & (g < 0)
    return ~(at_lower | at_upper)


def two_loop(g: np.ndarray, s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """L-BFGS two-loop recursion: the product H g of the inverse-Hessian approximation.

    Parameters
    ----------
    g : np.ndarray
        Gradient, shape (n,).
    s, y : np.ndarray
        History, oldest first, shape (m, n); pairs with s.y <= 0 are skipped.

    Returns
    -------
    np.ndarray
        H g, shape (n,); with no usable pair, g scaled by 1.
    """
    sy = np.einsum("ij,ij->i", s, y)
    keep = sy > 0
    s, y, sy = s[keep], y[keep], sy[keep]
    q = g.astype(float).copy()
    alphas = np.empty(len(sy))
    for i in range(len(sy) - 1, -1, -1):
        alphas[i] = (s[i] @ q) / sy[i]
        q -= alphas[i] * y[i]
    gamma = sy[-1] / (y[-1] @ y[-1]) if len(sy) else 1.0
    r = gamma * q
    for i in range(len(sy)):
        beta = (y[i] @ r) / sy[i]
        r += s[i] * (alphas[i] - beta)
    return r


def lbfgs_update(state: LBFGSState, x: np.ndarray, g: np.ndarray, misfit: float) -> LBFGSState:
    """New state at model ``x`` with gradient ``g``; the step from the previous model
    enters the history when it satisfies the curvature condition s.y > 0."""
    x = np.asarray(x, dtype=float).ravel()
    g = np.asarray(g, dtype=float).ravel()
    s_hist, y_hist = state.s, state.y
    if s_hist.shape[1:] != x.shape:
        s_hist, y_hist = np.zeros((0, x.size)), np.zeros((0, x.size))
    if state.x is not None and state.g is not None and state.x.shape == x.shape:
        s_new, y_new = x - state.x, g - state.g
        sy = s_new @ y_new
        if sy > 1e-12 * np.linalg.norm(s_new) * np.linalg.norm(y_new):
            s_hist = np.vstack([s_hist, s_new])[-state.memory :]
            y_hist = np.vstack([y_hist, y_new])[-state.memory :]
        else:
            logger.info("L-BFGS: step skipped in the history (s.y = %.3g)", sy)
    return replace(state, s=s_hist, y=y_hist, x=x, g=g, misfit=float(misfit), direction=None)


def lbfgs_direction(state: LBFGSState) -> np.ndarray:
    """Projected L-BFGS search direction from ``state.x``.

    The two-loop recursion runs on the free variables only; fixed ones get a
    zero component. If the result is not a descent direction, the negative
    projected gradient is returned.
    """
    if state.x is None or state.g is None:
        raise ValueError("the L-BFGS state has no model and gradient yet")
    x, g = state.x, state.g
    free = free_variables(x, g, state.lower, state.upper)
    d = np.zeros_like(g)
    if state.n_history:
        d[free] = -two_loop(g[free], state.s[:, free], state.y[:, free])
    if not state.n_history or g @ d >= 0:
        d = np.where(free, -g, 0.0)
    return d


def prepare_step(
    state: LBFGSState,
    x: np.ndarray,
    g: np.ndarray,
    misfit: float,
    initial_step: float = 0.5,
) -> LBFGSState:
    """Update the history with the new model and compute the search direction.

    Parameters
    ----------
    state : LBFGSState
        State of the previous iteration (or a fresh one).
    x, g : np.ndarray
        Current model and (smoothed) gradient, any shape (flattened).
    misfit : float
        Current misfit.
    initial_step : float
        Without history, the reference step changes the largest parameter by
        this fraction of the largest model value; with history it is 1.

    Returns
    -------
    LBFGSState
        With ``direction`` and ``alpha_base`` set.
    """
    new = lbfgs_update(state, x, g, misfit)
    d = lbfgs_direction(new)
    alpha = 1.0 if new.n_history else _reference_step(new.x, d, initial_step)
    return replace(new, direction=d, alpha_base=alpha, iteration=state.iteration + 1)


def _reference_step(x: np.ndarray, d: np.ndarray, fraction: float) -> float:
    """Step that changes the largest parameter by ``fraction`` of the largest model value."""
    dmax = float(np.max(np.abs(d))) if d.size else 0.0
    if dmax == 0:
        return 0.0
    xmax = float(np.max(np.abs(x))) if x.size else 0.0
    return fraction * (xmax if xmax > 0 else 1.0) / dmax


def trial_steps(state: LBFGSState, factors: Sequence[float] = (0.5, 1.0, 2.0)) -> np.ndarray:
    """Step lengths to evaluate: ``alpha_base`` times each factor, ascending."""
    return state.alpha_base * np.sort(np.asarray(factors, dtype=float))


def step_model(state: LBFGSState, alpha: float) -> np.ndarray:
    """Model P(x + alpha d) projected onto the bounds, shape (nparams,)."""
    if state.x is None or state.direction is None:
        raise ValueError("the L-BFGS state has no search direction; call prepare_step first")
    return project(state.x + alpha * state.direction, state.lower, state.upper)


@dataclass
class StepChoice:
    """Result of the trial-step line search.

    Attributes
    ----------
    alpha : float
        Chosen step length (0 when no trial decreased the misfit).
    predicted_misfit : float
        Misfit predicted by the parabola (or measured at a trial).
    decreased : bool
        Whether a misfit below the current one is expected at ``alpha``.
    method : str
        ``parabola``, ``best_trial``, ``parabola_below_trials`` or ``no_decrease``.
    """

    alpha: float
    predicted_misfit: float
    decreased: bool
    method: str


def _parabola(a: np.ndarray, j: np.ndarray) -> tuple[float, float, float]:
    """Coefficients (c2, c1, c0) of the parabola through three points."""
    c2, c1, c0 = np.polyfit(a, j, 2)
    return float(c2), float(c1), float(c0)


def choose_step(
    alphas: Sequence[float],
    misfits: Sequence[float],
    misfit0: float,
    max_extrapolation: float = 2.0,
) -> StepChoice:
    """Pick a step length from trial evaluations by a safeguarded quadratic fit.

    The parabola runs through the best of (0, misfit0) and the trials and its
    two neighbours. If it is convex, its vertex is used, limited to the
    bracket around the best point (or to ``max_extrapolation`` times the
    largest trial when the best trial is the largest); otherwise, or when the
    parabola does not predict a misfit below the best trial, the best trial is
    taken. When every trial is worse than alpha = 0, a convex parabola through
    0 and the two smallest trials may still place its minimum below the
    smallest trial; that step is returned (method ``parabola_below_trials``),
    else none (``no_decrease``).

    Parameters
    ----------
    alphas : sequence of float
        Positive trial step lengths (at least two).
    misfits : sequence of float
        Misfit at each trial.
    misfit0 : float
        Misfit at alpha = 0.
    max_extrapolation : float
        Largest step as a multiple of the largest trial.
    """
    if len(alphas) < 2 or len(alphas) != len(misfits):
        raise ValueError("need at least two trial steps with one misfit each")
    order = np.argsort(alphas)
    # fit in units of the largest trial step and the largest misfit (both can be tiny or huge)
    a_unit = float(np.max(alphas))
    j_unit = float(np.max(np.abs(np.concatenate([[misfit0], misfits])))) or 1.0
    steps = np.concatenate([[0.0], np.asarray(alphas, dtype=float)[order]])
    a = steps / a_unit
    j = np.concatenate([[misfit0], np.asarray(misfits, dtype=float)[order]]) / j_unit
    best = int(np.argmin(j))
    lo_idx = max(0, min(best - 1, len(a) - 3))
    c2, c1, c0 = _parabola(a[lo_idx : lo_idx + 3], j[lo_idx : lo_idx + 3])
    if best == 0:
        if c2 > 0 and 0 < -c1 / (2.0 * c2) < a[1]:
            vertex = -c1 / (2.0 * c2)
            predicted = c2 * vertex**2 + c1 * vertex + c0
            if predicted < j[0]:
                return StepChoice(
                    vertex * a_unit, predicted * j_unit, True, "parabola_below_trials"
                )
        return StepChoice(0.0, float(misfit0), False, "no_decrease")
    if c2 > 0:
        upper = a[best + 1] if best + 1 < len(a) else max_extrapolation * a[-1]
        vertex = float(np.clip(-c1 / (2.0 * c2), a[best - 1], upper))
        predicted = c2 * vertex**2 + c1 * vertex + c0
        if vertex > 0 and predicted < j[best]:
            return StepChoice(vertex * a_unit, predicted * j_unit, True, "parabola")
    return StepChoice(
        float(steps[best]), float(np.asarray(misfits)[order][best - 1]), True, "best_trial"
    )


def converged(misfits: Sequence[float], min_improvement: float) -> bool:
    """True when the last relative misfit decrease is below ``min_improvement``."""
    if len(misfits) < 2:
        return False
    previous, last = misfits[-2], misfits[-1]
    if previous <= 0:
        return True
    return (previous - last) / previous < min_improvement


def write_state(path: str | Path, state: LBFGSState) -> None:
    """Write an L-BFGS state to HDF5, atomically."""
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("s", data=state.s)
        f.create_dataset("y", data=state.y)
        for name in ("x", "g", "direction"):
            value = getattr(state, name)
            if value is not None:
                f.create_dataset(name, data=value)
        for name in ("memory", "lower", "upper", "misfit", "alpha_base", "iteration"):
            f.attrs[name] = getattr(state, name)


def read_state(path: str | Path) -> LBFGSState:
    """Read an L-BFGS state written by :func:`write_state`."""
    path = Path(path)
    with h5py.File(path, "r") as f:
        missing = [k for k in ("s", "y") if k not in f]
        missing += [
            k
            for k in ("memory", "lower", "upper", "misfit", "alpha_base", "iteration")
            if k not in f.attrs
        ]
        if missing:
            raise ValueError(f"{path}: L-BFGS state lacks {', '.join(missing)}")
        optional = {name: f[name][()] if name in f else None for name in ("x", "g", "direction")}
        return LBFGSState(
            memory=int(f.attrs["memory"]),
            lower=float(f.attrs["lower"]),
            upper=float(f.attrs["upper"]),
            s=f["s"][()],
            y=f["y"][()],
            misfit=float(f.attrs["misfit"]),
            alpha_base=float(f.attrs["alpha_base"]),
            iteration=int(f.attrs["iteration"]),
            **optional,
        )


@dataclass
class InversionProblem:
    """Data and forward model of a source inversion.

    Attributes
    ----------
    greens : GreensSpectra
        Green's functions of the receivers.
    observed : np.ndarray
        Observed correlations, shape (npairs, nlag).
    pairs : np.ndarray
        Station index pairs, shape (npairs, 2).
    dist_m : np.ndarray
        Pair distances in metres, shape (npairs,).
    max_lag_s : float
        Largest lag in s (nlag = 2 round(max_lag_s fs) + 1).
    available : np.ndarray of bool, optional
        Pairs with observations.
    """

    greens: GreensSpectra
    observed: np.ndarray
    pairs: np.ndarray
    dist_m: np.ndarray
    max_lag_s: float
    available: np.ndarray | None = None


@dataclass
class InversionStage:
    """One stage of a schedule: measurement (with its filters), smoothing, iteration limit."""

    config: MeasurementConfig
    smoothing_m: float = 0.0
    max_iterations: int = 20


@dataclass
class InversionResult:
    """Outcome of :func:`invert`.

    Attributes
    ----------
    model : SourceModel
        Final model.
    misfits : list of list of float
        Misfit of each accepted model per stage, starting with the stage's initial model.
    iterations : int
        Accepted model updates over all stages.
    evaluations : int
        Forward evaluations (correlations + measurement) over all stages.
    """

    model: SourceModel
    misfits: list[list[float]]
    iterations: int
    evaluations: int


def evaluate(
    problem: InversionProblem,
    model: SourceModel,
    config: MeasurementConfig,
    with_gradient: bool = True,
) -> tuple[Measurement, np.ndarray | None]:
    """Misfit of a model and, optionally, its gradient dJ/dm (ntraces, nbasis), unsmoothed."""
    corr = correlate(problem.greens, model, problem.pairs, problem.max_lag_s)
    result = measure(
        corr.data,
        problem.observed,
        corr.lags_s,
        problem.dist_m,
        config,
        pair_ids=corr.pair_ids,
        available=problem.available,
    )
    if not with_gradient:
        return result, None
    kernels = compute_kernels(problem.greens, model.spectral_basis, result.adjoint, problem.pairs)
    return result, assemble_gradient(kernels, model.surface_areas_m2)


def invert(
    problem: InversionProblem,
    start: SourceModel,
    stages: Sequence[InversionStage],
    memory: int = 5,
    upper: float = np.inf,
    min_improvement: float = 1e-3,
    trial_factors: Sequence[float] = (0.5, 1.0, 2.0),
    initial_step: float = 0.5,
    max_shrink: int = 3,
) -> InversionResult:
    """Run the whole inversion in memory (the DAG runs the same steps as separate jobs).

    Parameters
    ----------
    problem : InversionProblem
        Observations and Green's functions.
    start : SourceModel
        Starting model; its spectral basis stays fixed, the weights are inverted for.
    stages : sequence of InversionStage
        Run in order; each restarts the L-BFGS history.
    memory : int
        L-BFGS history length.
    upper : float
        Upper bound of the weights (lower bound 0).
    min_improvement : float
        Stop a stage when the relative misfit decrease of an iteration is below this.
    trial_factors : sequence of float
        Trial step lengths relative to the reference step.
    initial_step : float
        See :func:`prepare_step`.
    max_shrink : int
        How often the reference step may shrink by 10 when no trial decreases the misfit.
    """
    model = start
    all_misfits: list[list[float]] = []
    iterations = evaluations = 0
    for number, stage in enumerate(stages):
        state = LBFGSState(memory=memory, lower=0.0, upper=upper)
        result, grad = evaluate(problem, model, stage.config)
        evaluations += 1
        misfits = [result.total]
        while len(misfits) <= stage.max_iterations:
            smooth = smooth_on_sphere(
                grad, model.lon, model.lat, stage.smoothing_m, model.surface_areas_m2
            )
            state = prepare_step(state, model.model, smooth, misfits[-1], initial_step)
            step = _line_search(
                problem, model, stage.config, state, trial_factors, initial_step, max_shrink
            )
            evaluations += step.evaluations
            if step.model is None:
                logger.info("stage %d: no misfit decrease along the search direction", number)
                break
            model, grad, state = step.model, step.gradient, step.state
            misfits.append(step.misfit)
            iterations += 1
            logger.info(
                "stage %d iteration %d: misfit %.6g (step %.3g)",
                number,
                len(misfits) - 1,
                step.misfit,
                step.alpha,
            )
            if converged(misfits, min_improvement):
                break
        all_misfits.append(misfits)
    return InversionResult(model, all_misfits, iterations, evaluations)


@dataclass
class _StepOutcome:
    """Accepted model (None when no step decreased the misfit) and the state whose
    direction produced it (its history is empty after a steepest-descent restart)."""

    model: SourceModel | None
    gradient: np.ndarray | None
    misfit: float
    alpha: float
    evaluations: int
    state: LBFGSState


def _line_search(
    problem: InversionProblem,
    model: SourceModel,
    config: MeasurementConfig,
    state: LBFGSState,
    trial_factors: Sequence[float],
    initial_step: float,
    max_shrink: int,
) -> _StepOutcome:
    """Trial steps, quadratic fit, and an evaluation (with gradient) at the chosen step.

    Tries the L-BFGS direction first; when no decrease results, restarts from
    the steepest-descent direction and then shrinks the reference step by 10
    up to ``max_shrink`` times.
    """
    attempts = [state]
    if state.n_history:
        fresh = replace(state, s=state.s[:0], y=state.y[:0])
        d = lbfgs_direction(fresh)
        attempts.append(
            replace(fresh, direction=d, alpha_base=_reference_step(fresh.x, d, initial_step))
        )
    for _ in range(max_shrink):
        attempts.append(replace(attempts[-1], alpha_base=0.1 * attempts[-1].alpha_base))
    evaluations = 0
    for attempt in attempts:
        alphas = trial_steps(attempt, trial_factors)
        trials = np.array(
            [
                evaluate(problem, model.with_model(step_model(attempt, a)), config, False)[0].total
                for a in alphas
            ]
        )
        evaluations += len(alphas)
        choice = choose_step(alphas, trials, state.misfit)
        if not choice.decreased:
            continue
        best = int(np.argmin(trials))
        for alpha in (choice.alpha, alphas[best]):
            new_model = model.with_model(step_model(attempt, alpha))
            result, grad = evaluate(problem, new_model, config)
            evaluations += 1
            if result.total < state.misfit and (
                alpha == alphas[best] or result.total <= trials[best]
            ):
                return _StepOutcome(
                    new_model, grad, result.total, float(alpha), evaluations, attempt
                )
            if trials[best] >= state.misfit:
                break
    return _StepOutcome(None, None, state.misfit, 0.0, evaluations, state)
