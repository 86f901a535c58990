"""Archive layouts: where a channel-day of miniSEED and a station's StationXML live.

Two layouts are known:

``scedc``
    The SCEDC public data set on S3 (``s3://scedc-pds``)::

        continuous_waveforms/{YYYY}/{YYYY}_{DDD}/{NET}{STA:_<5}{CHA}{LOC:_<3}{YYYY}{DDD}.ms
        FDSNstationXML/{NET}/{NET}_{STA}.xml

    e.g. ``CIGSC__BHZ___2017180.ms`` (empty location) or ``BKTHIS_LHZ00_2022002.ms``.
``sds``
    SeisComP Data Structure, common for local archives::

        {YYYY}/{NET}/{STA}/{CHA}.D/{NET}.{STA}.{LOC}.{CHA}.D.{YYYY}.{DDD}

    StationXML is not part of SDS; by default it is read from
    ``stationxml/{NET}.{STA}.xml`` under the archive root.
"""

from __future__ import annotations

import abc
import fnmatch
import re
from dataclasses import dataclass

from obspy import UTCDateTime

_SCEDC_NAME = re.compile(
    r"^(?P<net>[A-Z0-9]{2})(?P<sta>[A-Z0-9_]{5})(?P<cha>[A-Z0-9]{3})(?P<loc>[A-Z0-9_]{3})"
    r"(?P<year>\d{4})(?P<doy>\d{3})\.ms$"
)
_SDS_NAME = re.compile(
    r"^(?P<net>[A-Z0-9]{1,2})\.(?P<sta>[A-Z0-9]{1,5})\.(?P<loc>[A-Z0-9]{0,2})\.(?P<cha>[A-Z0-9]{3})"
    r"\.D\.(?P<year>\d{4})\.(?P<doy>\d{3})$"
)


@dataclass(frozen=True)
class ChannelDay:
    """One channel of one day, as named by the archive layout."""

    network: str
    station: str
    location: str
    channel: str
    year: int
    doy: int

    @property
    def seed_id(self) -> str:
        """``NET.STA.LOC.CHA``."""
        return f"{self.network}.{self.station}.{self.location}.{self.channel}"


@dataclass(frozen=True)
class Selection:
    """Which channels to take: lists of fnmatch patterns (``*``, ``?``), as NoisePy's filters."""

    networks: tuple[str, ...] = ("*",)
    stations: tuple[str, ...] = ("*",)
    channels: tuple[str, ...] = ("*",)
    locations: tuple[str, ...] = ("*",)

    @classmethod
    def from_config(cls, cfg: dict) -> Selection:
        """From lists of patterns (config keys networks, stations, channels, locations)."""
        return cls(**{k: tuple(v) for k, v in cfg.items()})

    def accepts(self, cd: ChannelDay) -> bool:
        """True when every code of ``cd`` matches one of the patterns of its kind."""
        pairs = (
            (cd.network, self.networks),
            (cd.station, self.stations),
            (cd.channel, self.channels),
            (cd.location or "--", self.locations),
        )
        return all(any(fnmatch.fnmatchcase(code, pat) for pat in pats) for code, pats in pairs)


class Layout(abc.ABC):
    """Base class: maps channel-days to object paths relative to the archive root."""

    name = ""
    default_stationxml = ""

    @abc.abstractmethod
    def day_prefixes(self, day: UTCDateTime) -> list[str]:
        """Relative directories whose listing holds the day's objects (may contain globs)."""

    @abc.abstractmethod
    def path(self, cd: ChannelDay) -> str:
        """Relative object path of a channel-day."""

    @abc.abstractmethod
    def parse(self, name: str) -> ChannelDay | None:
        """Parse an object's base name; ``None`` when it is not a channel-day file."""


class ScedcLayout(Layout):
    """The SCEDC public data set layout."""

    name = "scedc"
    default_stationxml = "FDSNstationXML/{network}/{network}_{station}.xml"

    def day_prefixes(self, day: UTCDateTime) -> list[str]:
        return [f"continuous_waveforms/{day.year:04d}/{day.year:04d}_{day.julday:03d}"]

    def path(self, cd: ChannelDay) -> str:
        name = (
            f"{cd.network}{cd.station:_<5}{cd.channel}{cd.location:_<3}{cd.year:04d}{cd.doy:03d}.ms"
        )
        return f"continuous_waveforms/{cd.year:04d}/{cd.year:04d}_{cd.doy:03d}/{name}"

    def parse(self, name: str) -> ChannelDay | None:
        m = _SCEDC_NAME.match(name)
        if m is None:
            return None
        return ChannelDay(
            network=m["net"],
            station=m["sta"].rstrip("_"),
            location=m["loc"].rstrip("_"),
            channel=m["cha"],
            year=int(m["year"]),
            doy=int(m["doy"]),
        )


class SdsLayout(Layout):
    """The SeisComP Data Structure (SDS) layout."""

    name = "sds"
    default_stationxml = "stationxml/{network}.{station}.xml"

    def day_prefixes(self, day: UTCDateTime) -> list[str]:
        return [f"{day.year:04d}/*/*/*.D"]

    def path(self, cd: ChannelDay) -> str:
        return (
            f"{cd.year:04d}/{cd.network}/{cd.station}/{cd.channel}.D/"
            f"{cd.network}.{cd.station}.{cd.location}.{cd.channel}.D.{cd.year:04d}.{cd.doy:03d}"
        )

    def parse(self, name: str) -> ChannelDay | None:
        m = _SDS_NAME.match(name)
        if m is None:
            return None
        return ChannelDay(
            network=m["net"],
            station=m["sta"],
            location=m["loc"],
            channel=m["cha"],
            year=int(m["year"]),
            doy=int(m["doy"]),
        )


LAYOUTS: dict[str, Layout] = {"scedc": ScedcLayout(), "sds": SdsLayout()}


def get_layout(name: str) -> Layout:
    """Return the layout called ``name`` (``scedc`` or ``sds``)."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown archive layout {name!r}; known: {sorted(LAYOUTS)}") from None
