"""Writing the demo archive to disk in the SCEDC public-data-set layout.

::

    continuous_waveforms/{YYYY}/{YYYY}_{DDD}/{NET}{STA:_<5}{CHA}{LOC:_<3}{YYYY}{DDD}.ms
    FDSNstationXML/{NET}/{NET}_{STA}.xml
    truth/{stations,noise_sources,catalog,plane_waves}.csv, truth/{model,defects}.json

miniSEED is STEIM2-compressed int32, big-endian, ``spec.record_length``-byte records.
Every file is rendered in memory and written atomically (temporary file in the same
directory, then ``os.replace``), and only when its bytes differ from what is already
there, so re-writing a day or the truth tables leaves their modification times alone.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path

from seismake.archive.layout import ChannelDay, get_layout
from seismake.fileio import write_bytes_if_changed

from .day import synthesize_day
from .layout import Site
from .model import build_model
from .response import demo_inventory
from .spec import DemoSpec, demo_days
from .truth import truth_files

log = logging.getLogger(__name__)

DEFAULT_SPEC = DemoSpec()
SCEDC = get_layout("scedc")


def _stationxml_bytes(spec: DemoSpec, site: Site) -> bytes:
    buf = io.BytesIO()
    demo_inventory(spec, [site]).write(buf, format="STATIONXML", validate=False)
    return buf.getvalue()


def write_demo_archive(root: str | Path, spec: DemoSpec = DEFAULT_SPEC,
                       days: Sequence[int] | None = None) -> dict:
    """Synthesize the demo archive and write it under ``root``.

    StationXML and ``truth/`` always describe the whole spec; ``days`` chooses which day
    files are (re)written. The same spec always gives the same bytes, and a day's files do
    not depend on the other days.

    Parameters
    ----------
    root
        Archive root directory (created if needed).
    spec
        Demo parameters.
    days
        0-based indices of the days to write; default all ``spec.n_days``.

    Returns
    -------
    dict
        ``root``; ``days`` (ISO dates written); ``files`` (every file of this call, relative
        to ``root``); ``written`` (those whose bytes changed); ``stations`` (``NET.STA`` of
        every site); ``n_sources``; ``n_events`` and ``n_plane_waves`` (in the days written).

    Raises
    ------
    ValueError
        If a day index is outside ``0..spec.n_days - 1``.
    OSError
        If a file cannot be written (the message names it).
    """
    root = Path(root)
    indices = list(range(spec.n_days)) if days is None else [int(k) for k in days]
    bad = [k for k in indices if not 0 <= k < spec.n_days]
    if bad:
        raise ValueError(f"day indices {bad} outside 0..{spec.n_days - 1} (n_days={spec.n_days})")
    model = build_model(spec)
    contents: dict[str, bytes] = {
        f"truth/{name}": data for name, data in truth_files(model).items()
    }
    for site in model.sites:
        xml = SCEDC.default_stationxml.format(network=site.network, station=site.station)
        contents[xml] = _stationxml_bytes(spec, site)
    files = sorted(contents)
    written = [rel for rel in files if write_bytes_if_changed(root / rel, contents[rel])]
    all_days = demo_days(spec)
    n_events = n_waves = 0
    for k in sorted(set(indices)):
        day_files = []
        for site, channel, stream in synthesize_day(model, k):
            day = all_days[k]
            rel = SCEDC.path(
                ChannelDay(site.network, site.station, site.location, channel, day.year, day.julday)
            )
            buf = io.BytesIO()
            stream.write(buf, format="MSEED", encoding="STEIM2", reclen=spec.record_length,
                         byteorder=">")
            day_files.append(rel)
            if write_bytes_if_changed(root / rel, buf.getvalue()):
                written.append(rel)
        files += day_files
        n_events += len(model.earthquakes(k))
        n_waves += len(model.plane_waves(k))
        log.info("day %s: %d channel files under %s", all_days[k].date, len(day_files), root)
    return {
        "root": str(root),
        "days": [str(all_days[k].date) for k in sorted(set(indices))],
        "files": files,
        "written": written,
        "stations": [site.code for site in model.sites],
        "n_sources": len(model.sources),
        "n_events": n_events,
        "n_plane_waves": n_waves,
    }
