"""Station list of the noisi branch (paper Appendix B).

A comma-separated file with the header ``net,sta,lat,lon`` and one station per
line, for example ``G,CAN,-35.318715,148.996325``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from seismake.fileio import atomic_output

COLUMNS = ("net", "sta", "lat", "lon")


class StationListError(ValueError):
    """A station list is missing columns or holds invalid values."""


@dataclass(frozen=True)
class Station:
    """A receiver of the noisi branch.

    Attributes
    ----------
    network, station : str
        SEED network and station codes.
    latitude, longitude : float
        Coordinates in degrees.
    """

    network: str
    station: str
    latitude: float
    longitude: float

    def seed_id(self, channel: str, location: str = "") -> str:
        """SEED identifier ``NET.STA.LOC.CHA`` of one channel of this station."""
        return f"{self.network}.{self.station}.{location}.{channel}"


def _station_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict, float, float]]:
    """Rows of a station CSV with ``columns``: (line number, row, latitude, longitude).

    Raises :class:`StationListError` naming the file (and line) on a missing column or a
    coordinate that is not a number or out of range.
    """
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh, skipinitialspace=True)
        header = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in columns if c not in header]
        if missing:
            raise StationListError(f"{path}: missing column(s) {', '.join(missing)}")
        for lineno, row in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            try:
                lat, lon = float(row["lat"]), float(row["lon"])
            except ValueError as exc:
                raise StationListError(
                    f"{path}, line {lineno}: invalid coordinate ({exc})"
                ) from exc
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 360.0):
                raise StationListError(
                    f"{path}, line {lineno}: coordinates {lat}, {lon} out of range"
                )
            yield lineno, row, lat, lon


def read_stations(path: str | Path) -> list[Station]:
    """Read an Appendix B station list.

    Parameters
    ----------
    path : str or Path
        CSV file with the columns ``net, sta, lat, lon`` (further columns are ignored).

    Returns
    -------
    list of Station
        In file order.

    Raises
    ------
    StationListError
        When a column is missing, a coordinate is not a number or out of
        range, or a station appears twice.
    """
    path = Path(path)
    stations = []
    for lineno, row, lat, lon in _station_rows(path, COLUMNS):
        if not row["net"] or not row["sta"]:
            raise StationListError(f"{path}, line {lineno}: empty network or station code")
        stations.append(Station(row["net"], row["sta"], lat, lon))
    codes = [(s.network, s.station) for s in stations]
    duplicates = sorted({f"{n}.{s}" for n, s in codes if codes.count((n, s)) > 1})
    if duplicates:
        raise StationListError(f"{path}: duplicate station(s) {', '.join(duplicates)}")
    return stations


def write_stations(path: str | Path, stations: list[Station]) -> None:
    """Write an Appendix B station list atomically."""
    path = Path(path)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for s in stations:
        writer.writerow([s.network, s.station, repr(float(s.latitude)), repr(float(s.longitude))])
    with atomic_output(path) as tmp:
        tmp.write_text(buffer.getvalue())


RECEIVER_COLUMNS = (*COLUMNS, "loc", "cha")


@dataclass(frozen=True)
class Receiver:
    """One receiver channel: the unit of a Green's-function file (Appendix C).

    Attributes
    ----------
    station : Station
        Codes and coordinates.
    channel : str
        SEED channel code, e.g. ``MXZ``.
    location : str
        SEED location code (often empty).
    """

    station: Station
    channel: str
    location: str = ""

    @property
    def seed_id(self) -> str:
        """SEED identifier ``NET.STA.LOC.CHA``."""
        return self.station.seed_id(self.channel, self.location)


def write_receivers(path: str | Path, receivers: list[Receiver]) -> None:
    """Write a receiver list atomically: the Appendix B columns plus ``loc`` and ``cha``.

    Readers of Appendix B station lists ignore the extra columns, so the file is also a
    valid station list when every station has one channel.
    """
    ids = [r.seed_id for r in receivers]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise StationListError(f"{path}: duplicate receiver(s) {', '.join(duplicates)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RECEIVER_COLUMNS)
    for r in receivers:
        s = r.station
        lat, lon = repr(float(s.latitude)), repr(float(s.longitude))
        writer.writerow([s.network, s.station, lat, lon, r.location, r.channel])
    with atomic_output(path) as tmp:
        tmp.write_text(buffer.getvalue())


def read_receivers(path: str | Path) -> list[Receiver]:
    """Read a receiver list written by :func:`write_receivers`, in file order.

    Raises
    ------
    StationListError
        When a column is missing, a coordinate is invalid, a channel code is empty
        or a receiver appears twice.
    """
    path = Path(path)
    receivers = []
    for lineno, row, lat, lon in _station_rows(path, RECEIVER_COLUMNS):
        if not row["net"] or not row["sta"] or not row["cha"]:
            raise StationListError(f"{path}, line {lineno}: empty network, station or channel code")
        station = Station(row["net"], row["sta"], lat, lon)
        receivers.append(Receiver(station, row["cha"], row["loc"]))
    ids = [r.seed_id for r in receivers]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise StationListError(f"{path}: duplicate receiver(s) {', '.join(duplicates)}")
    return receivers


def receivers_from_config(stations: list[dict], channel: str, location: str = "") -> list[Receiver]:
    """Receivers from config entries ``{network, station, latitude, longitude}``, one channel
    each."""
    return [
        Receiver(
            Station(s["network"], s["station"], float(s["latitude"]), float(s["longitude"])),
            channel,
            location,
        )
        for s in stations
    ]
