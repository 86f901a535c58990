"""Per-day manifests: what the archive holds for a day, with channel metadata.

A manifest lists the day's channel objects (path, size, ETag or checksum), the
StationXML each station's metadata came from (with its checksum), the channel
coordinates and sampling rates from StationXML, and every object that was skipped
with the reason. It is canonical JSON without timestamps, so listing an unchanged
archive gives the same bytes and :func:`write_if_changed` leaves the file alone.
All downstream rules read channel sets and station pairs from manifests.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from obspy import Inventory, UTCDateTime

from seismake.archive.errors import ArchiveError, ArchiveUnreachable
from seismake.archive.layout import Selection
from seismake.archive.store import Archive
from seismake.fileio import write_bytes_if_changed

log = logging.getLogger(__name__)


@dataclass
class Manifest:
    """One day of an archive.

    Attributes
    ----------
    day
        ISO date ``YYYY-MM-DD`` (UTC).
    archive
        The archive spec as a dict (never credentials).
    objects
        Channel-day objects kept: dicts with path, size, etag and the SEED codes.
    channels
        ``seed_id -> metadata`` (latitude, longitude in degrees, elevation_m, depth_m,
        azimuth and dip in degrees, sampling_rate in Hz, has_response).
    stationxml
        ``NET.STA -> {"path", "checksum"}`` of the StationXML used.
    skipped
        Objects left out, each ``{"object": url, "seed_id": id, "reason": text}``.
    """

    day: str
    archive: dict
    objects: list[dict] = field(default_factory=list)
    channels: dict[str, dict] = field(default_factory=dict)
    stationxml: dict[str, dict] = field(default_factory=dict)
    skipped: list[dict] = field(default_factory=list)

    def to_json(self) -> str:
        """Canonical JSON text (sorted keys, stable order)."""
        return json.dumps(self.__dict__, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        return cls(**json.loads(text))

    @property
    def stations(self) -> list[str]:
        """Sorted ``NET.STA`` codes with at least one kept object."""
        return sorted({f"{o['network']}.{o['station']}" for o in self.objects})

    def channels_of(self, station: str) -> list[str]:
        """Sorted SEED ids of one ``NET.STA``."""
        return sorted(o["seed_id"] for o in self.objects if station == _net_sta(o["seed_id"]))


def _net_sta(seed_id: str) -> str:
    return ".".join(seed_id.split(".")[:2])


def channel_metadata(inv: Inventory, seed_id: str, day: UTCDateTime) -> dict:
    """Coordinates, orientation and sampling rate of ``seed_id`` valid at ``day``.

    Raises
    ------
    ValueError
        When the inventory has no epoch of that channel covering the day.
    """
    net, sta, loc, cha = seed_id.split(".")
    when = UTCDateTime(day) + 43200
    sel = inv.select(network=net, station=sta, location=loc, channel=cha, time=when)
    chans = [(s, c) for n in sel for s in n for c in s]
    if not chans:
        raise ValueError(f"no epoch of channel {seed_id} covers {UTCDateTime(day).date}")
    station, chan = chans[0]
    lat = chan.latitude if chan.latitude is not None else station.latitude
    lon = chan.longitude if chan.longitude is not None else station.longitude
    elev = chan.elevation if chan.elevation is not None else station.elevation
    return {
        "latitude": float(lat),
        "longitude": float(lon),
        "elevation_m": float(elev),
        "depth_m": float(chan.depth or 0.0),
        "azimuth": None if chan.azimuth is None else float(chan.azimuth),
        "dip": None if chan.dip is None else float(chan.dip),
        "sampling_rate": None if chan.sample_rate is None else float(chan.sample_rate),
        "has_response": chan.response is not None
        and bool(chan.response.response_stages or chan.response.instrument_sensitivity),
    }


def build_manifest(archive: Archive, day: UTCDateTime, selection: Selection) -> Manifest:
    """List one day of ``archive`` and attach StationXML metadata.

    A station whose StationXML is missing or unreadable, and a channel absent from its
    StationXML, are skipped and recorded with the reason; they never fail the day.
    Archive-wide failures (an unreachable endpoint) raise
    :class:`~seismake.archive.errors.ArchiveUnreachable`.
    """
    day = UTCDateTime(day.date)
    archive.check_reachable()
    objects = archive.list_day(day, selection)
    man = Manifest(day=str(day.date), archive=archive.spec.describe())
    inventories: dict[str, Inventory | None] = {}
    for obj in objects:
        cd = obj.channel_day
        key = f"{cd.network}.{cd.station}"
        if key not in inventories:
            inventories[key] = _station_inventory(archive, cd.network, cd.station, man)
        inv = inventories[key]
        if inv is None:
            man.skipped.append(
                {
                    "object": archive.url_of(obj.path),
                    "seed_id": cd.seed_id,
                    "reason": man.stationxml[key]["error"],
                }
            )
            continue
        try:
            meta = channel_metadata(inv, cd.seed_id, day)
        except ValueError as exc:
            man.skipped.append(
                {"object": archive.url_of(obj.path), "seed_id": cd.seed_id, "reason": str(exc)}
            )
            continue
        man.objects.append(obj.to_dict())
        man.channels[cd.seed_id] = meta
    for item in man.skipped:
        log.warning("skipped %s: %s", item["object"], item["reason"])
    log.info(
        "%s: %d object(s) kept, %d skipped, %d station(s)",
        man.day,
        len(man.objects),
        len(man.skipped),
        len(man.stations),
    )
    return man


def _station_inventory(
    archive: Archive, network: str, station: str, man: Manifest
) -> Inventory | None:
    relpath = archive.stationxml_path(network, station)
    key = f"{network}.{station}"
    try:
        inv, checksum = archive.read_inventory(network, station)
    except ArchiveUnreachable:
        raise
    except ArchiveError as exc:
        man.stationxml[key] = {"path": relpath, "error": str(exc)}
        return None
    man.stationxml[key] = {"path": relpath, "checksum": checksum}
    return inv


def write_if_changed(manifest: Manifest, path: str | Path) -> bool:
    """Write ``manifest`` atomically unless ``path`` already holds the same content.

    Returns True when the file was (re)written.
    """
    changed = write_bytes_if_changed(path, manifest.to_json().encode())
    log.info("%s %s", path, "written" if changed else "unchanged")
    return changed


def read_manifest(path: str | Path) -> Manifest:
    """Read a manifest written by :func:`write_if_changed`."""
    return Manifest.from_json(Path(path).read_text())


def manifest_digest(path: str | Path) -> str:
    """SHA-256 of a manifest file: downstream rules rerun when it changes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def station_pairs(stations: list[str], autocorrelations: bool = False) -> list[tuple[str, str]]:
    """Sorted station pairs (``NET.STA``), each once, optionally with auto pairs."""
    stations = sorted(set(stations))
    pairs = list(combinations(stations, 2))
    if autocorrelations:
        pairs += [(s, s) for s in stations]
    return sorted(pairs)
