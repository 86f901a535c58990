"""The ``truth/`` tables of the demo archive, as bytes (deterministic for a spec).

``stations.csv``, ``noise_sources.csv``, ``catalog.csv``, ``plane_waves.csv``,
``model.json`` and ``defects.json`` describe every day of the spec, whichever days are
written, so adding a day never changes them.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from seismake.geodesy import azimuthal_offsets_m

from .model import DemoModel, defects, describe_model


def _csv(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode()


def _json(obj: dict) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


def stations_table(model: DemoModel) -> pd.DataFrame:
    """One row per station or array element.

    Columns: network, station, location, channels (space-separated), latitude, longitude
    (degrees), elevation_m, sampling_rate_hz, role (``network`` or ``array``), east_m and
    north_m (array elements only: offsets from the array centre used for the plane-wave
    delays; empty for stations).
    """
    lat = np.array([e.latitude for e in model.array])
    lon = np.array([e.longitude for e in model.array])
    east, north = azimuthal_offsets_m(lat, lon, lat[0], lon[0])
    offsets = {s.station: (round(float(x), 3), round(float(y), 3))
               for s, x, y in zip(model.array, east, north, strict=True)}
    rows = []
    for s in model.sites:
        x, y = offsets.get(s.station, (None, None))
        rows.append({
            "network": s.network, "station": s.station, "location": s.location,
            "channels": " ".join(s.channels), "latitude": s.latitude, "longitude": s.longitude,
            "elevation_m": s.elevation_m, "sampling_rate_hz": s.sampling_rate_hz, "role": s.role,
            "east_m": x, "north_m": y,
        })
    return pd.DataFrame(rows)


def sources_table(model: DemoModel) -> pd.DataFrame:
    """One row per noise point source: latitude, longitude, weight, area_m2."""
    src = model.sources
    return pd.DataFrame({
        "latitude": src.latitude, "longitude": src.longitude,
        "weight": np.round(src.weight, 8), "area_m2": np.round(src.area_m2, 1),
    })


def catalog_table(model: DemoModel) -> pd.DataFrame:
    """All events of all days: event_id, time (ISO, UTC), latitude, longitude, depth_km,
    magnitude, event_type."""
    rows = [
        {"event_id": ev.event_id, "time": str(ev.time), "latitude": ev.latitude,
         "longitude": ev.longitude, "depth_km": ev.depth_km, "magnitude": ev.magnitude,
         "event_type": "earthquake"}
        for day in range(model.spec.n_days) for ev in model.earthquakes(day)
    ]
    columns = ["event_id", "time", "latitude", "longitude", "depth_km", "magnitude",
               "event_type"]
    return pd.DataFrame(rows, columns=columns)


def plane_waves_table(model: DemoModel) -> pd.DataFrame:
    """All plane waves of all days: start, end (ISO, UTC), backazimuth_deg, velocity_km_s,
    fmin_hz, fmax_hz, amplitude (RMS ground velocity, m/s)."""
    rows = [
        {"start": str(w.start), "end": str(w.end), "backazimuth_deg": w.backazimuth_deg,
         "velocity_km_s": w.velocity_km_s, "fmin_hz": w.fmin_hz, "fmax_hz": w.fmax_hz,
         "amplitude": w.amplitude}
        for day in range(model.spec.n_days) for w in model.plane_waves(day)
    ]
    columns = ["start", "end", "backazimuth_deg", "velocity_km_s", "fmin_hz", "fmax_hz",
               "amplitude"]
    return pd.DataFrame(rows, columns=columns)


def truth_files(model: DemoModel) -> dict[str, bytes]:
    """Contents of the files under ``truth/``, keyed by file name.

    Parameters
    ----------
    model
        The demo model.

    Returns
    -------
    dict
        ``{file name: bytes}``.
    """
    return {
        "stations.csv": _csv(stations_table(model)),
        "noise_sources.csv": _csv(sources_table(model)),
        "catalog.csv": _csv(catalog_table(model)),
        "plane_waves.csv": _csv(plane_waves_table(model)),
        "model.json": _json(describe_model(model)),
        "defects.json": _json(defects(model.spec)),
    }
