"""Array-branch figures: multi-band FK panels and the slowness-plane power of a window.

Figures are drawn on a bare :class:`matplotlib.figure.Figure` (Agg canvas, no pyplot
state) and written as PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from obspy import Trace, UTCDateTime

from seismake.array.geometry import baz_velocity, slowness_from_baz


def _time_axis(times: np.ndarray) -> tuple[float, float, str]:
    """Reference time (whole minute), scale (s per unit) and unit name for a time axis."""
    t_ref = float(np.floor(times[0] / 60.0) * 60.0) if times.size else 0.0
    span = float(times[-1] - times[0]) if times.size > 1 else 0.0
    if span > 3 * 3600:
        return t_ref, 3600.0, "h"
    if span > 3 * 60:
        return t_ref, 60.0, "min"
    return t_ref, 1.0, "s"


def _edges(centres: np.ndarray) -> np.ndarray:
    if centres.size == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mid = 0.5 * (centres[1:] + centres[:-1])
    return np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])


def plot_sliding_window_multifreq(
    times: np.ndarray,
    f_bands: pd.DataFrame,
    backazimuth: np.ndarray,
    velocity: np.ndarray,
    semblance: np.ndarray,
    path: str | Path,
    semblance_threshold: float = 0.6,
    detections: pd.DataFrame | None = None,
    trace: Trace | None = None,
    title: str | None = None,
    log_freq: bool = True,
    velocity_lim: tuple[float, float] | None = None,
) -> None:
    """Backazimuth, trace velocity and semblance over time and frequency band.

    Backazimuth and velocity are shown only where the semblance reaches
    ``semblance_threshold``; detections are outlined on every panel.

    Parameters
    ----------
    times
        Window centres, POSIX seconds, shape (N_t,).
    f_bands
        The N_f bands (columns fmin, fmax in Hz); rows are drawn from fmin to fmax.
    backazimuth, velocity, semblance
        Shape (N_f, N_t): degrees, km/s, relative power.
    path
        PNG to write.
    semblance_threshold
        Masking threshold for the backazimuth and velocity panels.
    detections
        Optional table with columns start, end (POSIX s), fmin, fmax (Hz).
    trace
        Optional waveform (e.g. the reference element) drawn in a top panel.
    title
        Figure title.
    log_freq
        Logarithmic frequency axis.
    velocity_lim
        Colour limits of the velocity panel, km/s (default: data range above threshold).
    """
    times = np.asarray(times, dtype=float)
    semb = np.asarray(semblance, dtype=float)
    with np.errstate(invalid="ignore"):
        weak = ~(semb >= semblance_threshold)
    baz = np.ma.masked_where(weak, backazimuth)
    vel = np.ma.masked_where(weak, velocity)
    t_ref, scale, unit = _time_axis(times)
    t_edges = (_edges(times) - t_ref) / scale if times.size else np.array([0.0, 1.0])
    fmin = f_bands["fmin"].to_numpy(float)
    fmax = f_bands["fmax"].to_numpy(float)

    n_panels = 4 if trace is not None else 3
    fig = Figure(figsize=(10, 2.2 * n_panels + 0.6))
    axes = fig.subplots(n_panels, 1, sharex=True, squeeze=False)[:, 0]
    panels = axes[1:] if trace is not None else axes
    if trace is not None:
        tt = (trace.times("timestamp") - t_ref) / scale
        data = np.asarray(trace.data, dtype=float)
        peak = np.max(np.abs(data)) if data.size else 0.0
        axes[0].plot(tt, data / peak if peak > 0 else data, "k-", lw=0.4)
        axes[0].set_ylabel(f"{trace.id}\n(normalised)")
    if vel.count():
        vlim = velocity_lim or (float(vel.min()), float(vel.max()))
    else:
        vlim = velocity_lim or (0.0, 1.0)
    specs = (
        (baz, "twilight", (0.0, 360.0), "backazimuth (deg)"),
        (vel, "viridis", vlim, "trace velocity (km/s)"),
        (np.ma.masked_invalid(semb), "pink_r", (0.0, 1.0), "semblance"),
    )
    for ax, (values, cmap, lim, label) in zip(panels, specs, strict=True):
        if times.size == 0:
            ax.text(0.5, 0.5, "no FK estimates", ha="center", va="center", transform=ax.transAxes)
        for k in range(len(f_bands) if times.size else 0):
            mesh = ax.pcolormesh(
                t_edges,
                [fmin[k], fmax[k]],
                np.ma.atleast_2d(values[k]),
                cmap=cmap,
                vmin=lim[0],
                vmax=lim[1],
                shading="flat",
            )
        if times.size:
            fig.colorbar(mesh, ax=ax, label=label, pad=0.01)
        if log_freq:
            ax.set_yscale("log")
        ax.set_ylim(fmin.min(), fmax.max())
        ax.set_ylabel("frequency (Hz)")
        if detections is not None:
            for row in detections.itertuples():
                ax.add_patch(
                    Rectangle(
                        ((row.start - t_ref) / scale, row.fmin),
                        (row.end - row.start) / scale,
                        row.fmax - row.fmin,
                        fill=False,
                        edgecolor="red",
                        lw=1.2,
                    )
                )
    if times.size:
        panels[-1].set_xlim(t_edges[0], t_edges[-1])
    panels[-1].set_xlabel(f"time ({unit}) after {UTCDateTime(t_ref).isoformat()}Z")
    if title:
        axes[0].set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_slowness_power(
    sx: np.ndarray,
    sy: np.ndarray,
    relpow: np.ndarray,
    path: str | Path,
    truth: tuple[float, float] | None = None,
    show_peak: bool = True,
    title: str | None = None,
) -> None:
    """Relative beam power over the slowness plane of one window.

    Parameters
    ----------
    sx, sy
        Propagation slownesses of the grid, s/km, shapes (n_x,), (n_y,).
    relpow
        Relative power, shape (n_x, n_y), indexed [east, north].
    path
        PNG to write.
    truth
        Optional (backazimuth deg, velocity km/s) of a known plane wave, marked with
        a cross at its propagation slowness.
    show_peak
        Mark the grid maximum and give its backazimuth and velocity in the title.
    title
        Title (prefix when the peak is shown).
    """
    sx = np.asarray(sx, dtype=float)
    sy = np.asarray(sy, dtype=float)
    relpow = np.asarray(relpow, dtype=float)
    if relpow.shape != (sx.size, sy.size):
        raise ValueError(f"relpow has shape {relpow.shape}, expected {(sx.size, sy.size)}")
    fig = Figure(figsize=(6, 5.2))
    ax = fig.subplots()
    mesh = ax.pcolormesh(sx, sy, relpow.T, cmap="viridis", shading="nearest")
    fig.colorbar(mesh, ax=ax, label="relative power")
    ax.plot([0.0], [0.0], "w+", ms=8)
    text = title or ""
    if show_peak:
        ix, iy = np.unravel_index(np.argmax(relpow), relpow.shape)
        baz, vel = baz_velocity(sx[ix], sy[iy])
        ax.plot(sx[ix], sy[iy], "o", mfc="none", mec="red", ms=12, mew=1.5, label="peak")
        text = f"{text}  peak: baz {float(baz):.1f} deg, {float(vel):.2f} km/s".strip()
    if truth is not None:
        tx, ty = slowness_from_baz(*truth)
        ax.plot(tx, ty, "x", color="white", ms=10, mew=2, label="truth")
    if show_peak or truth is not None:
        ax.legend(loc="upper right", fontsize=8)
    ax.set_aspect("equal")
    ax.set_xlabel("east slowness (s/km)")
    ax.set_ylabel("north slowness (s/km)")
    ax.set_title(text, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
