"""Segmentor: time-frequency blocks (``f_bands``) for array processing, as in Cardinal.

An ``f_bands`` table is a pandas DataFrame with one row per band and the columns

- ``band``: band number, from 1,
- ``fmin``, ``fcenter``, ``fmax``: band edges and centre ``(fmin + fmax) / 2``, Hz,
- ``win``: window length, s,
- ``step``: window step, s.

Values are exact (not rounded); the tables printed in the Cardinal guide are these
values rounded to 4 or 6 decimals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["band", "fmin", "fcenter", "fmax", "win", "step"]

PMCC_FMIN_HZ = 0.01
PMCC_RATIO = 500.0 ** (1.0 / 15.0)
PMCC_N_BANDS = 15
PMCC_WIN_FIRST_S = 200.0
PMCC_WIN_LAST_S = 30.0
PMCC_STEP_FRACTION = 0.1

BAND_RATIOS = {"third_octave": 2.0 ** (1.0 / 3.0), "octave": 2.0, "decade": 10.0}


def _table(fmin: np.ndarray, fmax: np.ndarray, win: np.ndarray, step: np.ndarray, first: int = 1):
    return pd.DataFrame(
        {
            "band": np.arange(first, first + fmin.size, dtype=int),
            "fmin": fmin,
            "fcenter": 0.5 * (fmin + fmax),
            "fmax": fmax,
            "win": win,
            "step": step,
        },
        columns=COLUMNS,
    )


def _pmcc_window(period_s: np.ndarray) -> np.ndarray:
    """PMCC window, linear in the longest period 1/fmin of the band, seconds."""
    p_first = 1.0 / PMCC_FMIN_HZ
    p_last = 1.0 / (PMCC_FMIN_HZ * PMCC_RATIO ** (PMCC_N_BANDS - 1))
    slope = (PMCC_WIN_FIRST_S - PMCC_WIN_LAST_S) / (p_first - p_last)
    return PMCC_WIN_LAST_S + slope * (period_s - p_last)


def pmcc_fbands() -> pd.DataFrame:
    """The 15 PMCC bands of Matoza et al. (2013), 0.01-5 Hz.

    Band edges are ``0.01 * 500 ** (k / 15)``, k = 0..15 (logarithmic); the window is
    linear in the band's longest period ``1 / fmin``, from 200 s for the first band to
    30 s for the last; the step is 10 % of the window.

    Returns
    -------
    pandas.DataFrame
        15 rows, columns band, fmin, fcenter, fmax (Hz), win, step (s).
    """
    edges = PMCC_FMIN_HZ * PMCC_RATIO ** np.arange(PMCC_N_BANDS + 1)
    fmin, fmax = edges[:-1], edges[1:]
    win = _pmcc_window(1.0 / fmin)
    return _table(fmin, fmax, win, PMCC_STEP_FRACTION * win)


def extend_pmcc_fbands(f_bands: pd.DataFrame, fmax: float) -> pd.DataFrame:
    """Append bands to a PMCC-style table up to ``fmax``.

    New bands continue the logarithmic spacing of the last band (ratio fmax/fmin) and
    the window rule of the table: a straight line of ``win`` against the period
    ``1 / fmin`` fitted through its rows (exact for :func:`pmcc_fbands`), with the
    step fraction ``step / win`` of the last band. Only bands whose upper edge does not
    exceed ``fmax`` are added.

    Parameters
    ----------
    f_bands
        Table with columns fmin, fmax, win, step (e.g. :func:`pmcc_fbands`), at least
        two rows.
    fmax
        Highest upper band edge wanted, Hz.

    Returns
    -------
    pandas.DataFrame
        The input rows followed by the new bands, numbered on.
    """
    if len(f_bands) < 2:
        raise ValueError("extend_pmcc_fbands needs a table of at least two bands")
    last = f_bands.iloc[-1]
    ratio = float(last["fmax"] / last["fmin"])
    if ratio <= 1.0:
        raise ValueError(f"last band {last['fmin']}-{last['fmax']} Hz has fmax <= fmin")
    slope, intercept = np.polyfit(1.0 / f_bands["fmin"].to_numpy(float), f_bands["win"], 1)
    step_fraction = float(last["step"] / last["win"])
    n_new = int(np.floor(np.log(fmax / float(last["fmax"])) / np.log(ratio) + 1e-9))
    base = _table(
        f_bands["fmin"].to_numpy(float),
        f_bands["fmax"].to_numpy(float),
        f_bands["win"].to_numpy(float),
        f_bands["step"].to_numpy(float),
    )
    if "band" in f_bands.columns:
        base["band"] = f_bands["band"].to_numpy(int)
    if n_new <= 0:
        return base
    new_min = float(last["fmax"]) * ratio ** np.arange(n_new)
    new_max = new_min * ratio
    win = slope / new_min + intercept
    new = _table(new_min, new_max, win, step_fraction * win, first=int(base["band"].iloc[-1]) + 1)
    return pd.concat([base, new], ignore_index=True)


def make_custom_fbands(
    f_min: float = 0.01,
    f_max: float = 50.0,
    win_min: float = 3.0,
    win_max: float = 200.0,
    overlap: float = 0.1,
    type: str = "third_octave",
) -> pd.DataFrame:
    """Contiguous bands from ``f_min`` with the window linear in period.

    Each band spans ``[f, r f]`` with r = 2**(1/3) (``third_octave``), 2 (``octave``)
    or 10 (``decade``), starting at ``f_min``, as long as the upper edge does not exceed
    ``f_max``. The window is the straight line through ``(1 / f_min, win_max)`` and
    ``(1 / f_max, win_min)`` evaluated at the period ``1 / fcenter``; the step is
    ``overlap * win`` (``overlap`` is Cardinal's name for the step fraction).

    Parameters
    ----------
    f_min, f_max
        Frequency range, Hz.
    win_min, win_max
        Windows (s) at ``f_max`` and ``f_min``.
    overlap
        Step as a fraction of the window, in (0, 1].
    type
        ``third_octave``, ``octave`` or ``decade``.

    Returns
    -------
    pandas.DataFrame
        Columns band, fmin, fcenter, fmax (Hz), win, step (s).
    """
    if type not in BAND_RATIOS:
        raise ValueError(f"unknown band type {type!r}; use one of {sorted(BAND_RATIOS)}")
    if not 0 < f_min < f_max:
        raise ValueError(f"need 0 < f_min < f_max, got {f_min} and {f_max} Hz")
    if not 0 < overlap <= 1:
        raise ValueError(f"overlap (step fraction) must be in (0, 1], got {overlap}")
    ratio = BAND_RATIOS[type]
    n = int(np.floor(np.log(f_max / f_min) / np.log(ratio) + 1e-9))
    if n < 1:
        raise ValueError(f"no {type} band fits between {f_min} and {f_max} Hz")
    fmin = f_min * ratio ** np.arange(n)
    fmax = fmin * ratio
    slope = (win_max - win_min) / (1.0 / f_min - 1.0 / f_max)
    win = win_min + slope * (2.0 / (fmin + fmax) - 1.0 / f_max)
    return _table(fmin, fmax, win, overlap * win)
