"""Archive overview figures: station map and data availability per channel and day."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle
from obspy import UTCDateTime


def plot_station_map(channels: pd.DataFrame, path: str | Path, cluster_km: float = 5.0) -> None:
    """Map of stations (equirectangular, true aspect at the mean latitude).

    Stations closer than ``cluster_km`` to a labelled one (array elements) share its
    label, with their count, so labels stay readable.

    Parameters
    ----------
    channels
        One row per channel with columns seed_id, latitude, longitude (degrees).
    path
        PNG to write.
    cluster_km
        Distance under which stations share one label (km).
    """
    sta = channels.assign(station=channels.seed_id.str.rsplit(".", n=2).str[0])
    sta = sta.groupby("station")[["latitude", "longitude"]].first().reset_index()
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.scatter(sta.longitude, sta.latitude, marker="^", s=60, c="tab:red", edgecolor="k")
    labels: list[list] = []  # [lon, lat, first name, last name, count]
    coslat = np.cos(np.radians(sta.latitude.mean())) if len(sta) else 1.0
    for row in sta.itertuples():
        for lab in labels:
            d_km = 111.2 * np.hypot((row.longitude - lab[0]) * coslat, row.latitude - lab[1])
            if d_km < cluster_km:
                lab[3], lab[4] = row.station, lab[4] + 1
                break
        else:
            labels.append([row.longitude, row.latitude, row.station, row.station, 1])
    for lon, lat, first, last, n in labels:
        text = first if n == 1 else f"{first} .. {last.split('.')[-1]} ({n})"
        ax.annotate(text, (lon, lat), xytext=(4, 4), textcoords="offset points", fontsize=7)
    if len(sta):
        ax.set_aspect(1.0 / coslat)
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_title(f"{len(sta)} stations")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_availability(
    segments: pd.DataFrame, channels: list[str], days: list[str], path: str | Path
) -> None:
    """Data availability per channel over the days: bars where data exist.

    Gaps and missing day-files show in red; days are separated by grey lines.

    Parameters
    ----------
    segments
        Columns seed_id, start, end (ISO UTC) as from
        :func:`seismake.archive.availability.scan_day`, all days concatenated.
    channels
        SEED ids to show, one row each (also those without any data).
    days
        ISO dates covered by the run.
    path
        PNG to write.
    """
    t0 = UTCDateTime(days[0])
    t1 = UTCDateTime(days[-1]) + 86400
    fig, ax = plt.subplots(figsize=(10, 0.28 * len(channels) + 1.5))
    for i, sid in enumerate(channels):
        ax.add_patch(Rectangle(((0), i - 0.4), (t1 - t0) / 86400, 0.8, color="#f3b6b6", lw=0))
        for seg in segments[segments.seed_id == sid].itertuples():
            x0 = (UTCDateTime(seg.start) - t0) / 86400
            x1 = (UTCDateTime(seg.end) - t0) / 86400
            ax.add_patch(Rectangle((x0, i - 0.4), x1 - x0, 0.8, color="tab:blue", lw=0))
    for d in range(len(days) + 1):
        ax.axvline(d, color="0.5", lw=0.8)
    ax.set_xlim(0, (t1 - t0) / 86400)
    ax.set_ylim(-0.6, len(channels) - 0.4)
    ax.set_yticks(range(len(channels)), channels, fontsize=7)
    ax.set_xticks(np.arange(len(days)) + 0.5, days, fontsize=8)
    ax.invert_yaxis()
    ax.set_title("data availability (blue: data; red: gap, missing or unreadable day file)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
