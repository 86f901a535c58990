"""One day of the noise branch read straight from the archive through its manifest.

The day's manifest lists the channel objects and the StationXML of each station;
:func:`read_archive_day` reads the objects of the stations selected for the noise
branch, skipping (and reporting) every object or StationXML that cannot be read,
and :func:`correlate_archive_day` correlates what was read. A day on which nothing
is readable gives an empty :class:`~seismake.noise.correlate.DayCorrelations`
whose ``reason`` names what went wrong, never an exception.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from obspy import Inventory, Stream, UTCDateTime

from seismake.archive import Archive, ArchiveError, ArchiveUnreachable, Manifest
from seismake.noise.correlate import ArrayTarget, DayCorrelations, correlate_streams
from seismake.noise.params import CorrelationParams

logger = logging.getLogger(__name__)


@dataclass
class ArchiveDay:
    """Raw waveforms and metadata of one day for the noise branch.

    Attributes
    ----------
    day : str
        ISO date ``YYYY-MM-DD``.
    stream : obspy.Stream
        Raw traces (counts) of every object read.
    inventory : obspy.Inventory
        StationXML of the stations read.
    objects : int
        Objects of the manifest selected for the noise branch.
    problems : dict
        SEED id -> reason, for every selected object (or its StationXML) not read.
    excluded : list of str
        SEED ids in the manifest left out by the station patterns or the components.
    """

    day: str
    stream: Stream
    inventory: Inventory
    objects: int = 0
    problems: dict[str, str] = field(default_factory=dict)
    excluded: list[str] = field(default_factory=list)


def station_selected(station: str, patterns: Sequence[str]) -> bool:
    """True when the station code matches one of the fnmatch ``patterns``."""
    return any(fnmatch.fnmatchcase(station, p) for p in patterns)


def read_archive_day(
    archive: Archive,
    manifest: Manifest,
    stations: Sequence[str] = ("*",),
    components: str = "ZNE",
) -> ArchiveDay:
    """Read the waveforms and StationXML of a manifest's day for the selected stations.

    Parameters
    ----------
    archive : seismake.archive.Archive
        The archive the manifest lists (local or S3).
    manifest : seismake.archive.Manifest
        The day's manifest.
    stations : sequence of str
        fnmatch patterns of the station codes used (e.g. ``["S*"]``).
    components : str
        Last letters of the channel codes read (``"Z"`` for ``ncomp=1``).

    Returns
    -------
    ArchiveDay
        What was read, and the reason for every selected object that was not.

    Raises
    ------
    seismake.archive.ArchiveUnreachable
        When the archive itself cannot be reached (other archive errors are per object).
    """
    stream = Stream()
    inventory = Inventory(networks=[], source="seismake")
    problems: dict[str, str] = {}
    excluded: list[str] = []
    station_error: dict[str, str | None] = {}
    selected = 0
    for obj in manifest.objects:
        seed_id = obj["seed_id"]
        if not station_selected(obj["station"], stations) or seed_id[-1] not in components:
            excluded.append(seed_id)
            continue
        selected += 1
        key = f"{obj['network']}.{obj['station']}"
        if key not in station_error:
            try:
                inv, _ = archive.read_inventory(obj["network"], obj["station"])
                inventory.networks.extend(inv.networks)
                station_error[key] = None
            except ArchiveUnreachable:
                raise
            except ArchiveError as err:
                station_error[key] = str(err)
        if station_error[key] is not None:
            problems[seed_id] = station_error[key]
            continue
        try:
            stream += archive.read_stream(obj["path"])
        except ArchiveUnreachable:
            raise
        except ArchiveError as err:
            problems[seed_id] = str(err)
    for seed_id, reason in problems.items():
        logger.warning("day %s: skipping %s: %s", manifest.day, seed_id, reason)
    logger.info(
        "day %s: %d of %d selected object(s) read, %d skipped, %d left out by the station "
        "patterns %s or the components %s",
        manifest.day,
        selected - len(problems),
        selected,
        len(problems),
        len(excluded),
        list(stations),
        components,
    )
    return ArchiveDay(manifest.day, stream, inventory, selected, problems, sorted(excluded))


def correlate_archive_day(
    archive: Archive,
    manifest: Manifest,
    params: CorrelationParams,
    stations: Sequence[str] = ("*",),
    threads: int = 1,
    allocate: Callable[[tuple[int, ...]], ArrayTarget] | None = None,
) -> DayCorrelations:
    """Read a day through its manifest and correlate all station pairs.

    Parameters
    ----------
    archive : seismake.archive.Archive
        The archive.
    manifest : seismake.archive.Manifest
        The day's manifest.
    params : CorrelationParams
        Correlation parameters.
    stations : sequence of str
        fnmatch patterns of the station codes used.
    threads : int
        Threads, as in :func:`seismake.noise.correlate.correlate_streams`.
    allocate : callable, optional
        Target of the correlations, as in :func:`seismake.noise.correlate.correlate_day`.

    Returns
    -------
    DayCorrelations
        The day's correlations; empty with the reason when no object could be read.
        Objects not read are reported in ``dropped`` with their reason.
    """
    day = UTCDateTime(manifest.day)
    raw = read_archive_day(archive, manifest, stations, "Z" if params.ncomp == 1 else "ZNE")
    if len(raw.stream) == 0:
        if raw.objects == 0:
            reason = f"the manifest lists no object of the stations {list(stations)}"
        else:
            first = next(iter(raw.problems.values()))
            reason = (
                f"none of the {raw.objects} selected object(s) could be read "
                f"(first problem: {first})"
            )
        logger.warning("day %s: %s", manifest.day, reason)
        return DayCorrelations.empty(day, params, reason, dropped=raw.problems)
    result = correlate_streams(raw.stream, raw.inventory, params, day, threads, allocate)
    result.dropped.update(raw.problems)
    return result
