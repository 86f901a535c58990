"""Noise-branch figures: record sections (moveout) of the stacked correlations."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from seismake.noise.moveout import RecordSection, filtered


def plot_moveout(
    section: RecordSection,
    freqmin: float,
    freqmax: float,
    path: str | Path,
    reference_velocity_km_s: float | None = None,
) -> None:
    """Record section: band-passed stacks at their inter-station distance.

    Each trace is scaled to its own largest absolute value and drawn over
    a height of about the mean distance step; positive lags carry energy from
    station 1 to station 2.

    Parameters
    ----------
    section : RecordSection
        One component of every pair.
    freqmin, freqmax : float
        Pass band in Hz.
    path : str or Path
        PNG to write.
    reference_velocity_km_s : float, optional
        Draw the lines ``lag = +-distance / velocity``.
    """
    traces = filtered(section, freqmin, freqmax)
    dist = section.distance_km
    fig, ax = plt.subplots(figsize=(8, 7))
    if dist.size:
        span = float(dist.max() - dist.min()) if dist.size > 1 else float(dist.max() or 1.0)
        height = 0.6 * max(span / max(dist.size - 1, 1), 1e-3 * max(span, 1.0))
        peak = np.abs(traces).max(axis=1)
        scaled = traces / np.where(peak > 0, peak, 1.0)[:, None] * height
        for d, row in zip(dist, scaled, strict=True):
            ax.plot(section.lags_s, d + row, color="k", lw=0.5)
            ax.fill_between(section.lags_s, d, d + row, where=row > 0, color="k", lw=0)
        if reference_velocity_km_s:
            d_line = np.array([0.0, dist.max() + height])
            t_line = d_line / reference_velocity_km_s
            for sign in (1, -1):
                ax.plot(sign * t_line, d_line, color="tab:red", lw=1, ls="--")
            ax.plot([], [], color="tab:red", ls="--", label=f"{reference_velocity_km_s:g} km/s")
            ax.legend(loc="upper right")
        ax.set_ylim(dist.min() - 2 * height, dist.max() + 2 * height)
    else:
        ax.text(0.5, 0.5, "no pair with data", transform=ax.transAxes, ha="center")
    ax.set_xlim(section.lags_s[0], section.lags_s[-1])
    ax.set_xlabel("lag (s): positive = energy from station 1 to station 2")
    ax.set_ylabel("inter-station distance (km)")
    ax.set_title(
        f"{section.component} {section.method} stacks, {freqmin:g}-{freqmax:g} Hz, "
        f"{dist.size} pairs"
    )
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
