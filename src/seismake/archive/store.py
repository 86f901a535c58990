"""Read-only access to a waveform archive over fsspec: local directories and S3.

An archive is described by an :class:`ArchiveSpec` (from the ``archive`` section of the
config). S3 access is anonymous for public buckets (``anon: true``) or uses the
credentials that botocore finds in the environment or the user's AWS config
(``anon: false``); credentials never appear in the config. ``endpoint_url`` points at
any S3-compatible store (MinIO, Ceph, a local moto server).

Transient errors (connection refused or reset, time-outs, throttling) are retried with
exponential backoff; what still fails raises :class:`ArchiveUnreachable`. A missing
object raises :class:`ObjectNotFound`, an undecodable one :class:`CorruptObject`; all
messages name the object.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import posixpath
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TypeVar

import fsspec
import obspy
from obspy import UTCDateTime

from seismake.archive.errors import (
    AccessDenied,
    ArchiveError,
    ArchiveUnreachable,
    CorruptObject,
    ObjectNotFound,
)
from seismake.archive.layout import ChannelDay, Selection, get_layout

log = logging.getLogger(__name__)

T = TypeVar("T")

_PERMANENT = (
    ArchiveError,
    FileNotFoundError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
)


@dataclass(frozen=True)
class ArchiveSpec:
    """Where an archive is and how to reach it.

    Parameters
    ----------
    url
        Local directory or ``s3://bucket[/prefix]``.
    layout
        ``scedc`` or ``sds``.
    anon
        Anonymous S3 access (public buckets).
    endpoint_url
        Custom S3 endpoint (S3-compatible stores); ``None`` for AWS.
    stationxml
        Template of the StationXML path relative to ``url`` with ``{network}`` and
        ``{station}``; ``None`` for the layout's default.
    retries
        Attempts for a transient error before giving up.
    backoff_s
        First backoff delay in seconds; doubled after every failed attempt.
    timeout_s
        Connect and read time-out of one S3 request in seconds.
    """

    url: str
    layout: str = "scedc"
    anon: bool = True
    endpoint_url: str | None = None
    stationxml: str | None = None
    retries: int = 4
    backoff_s: float = 0.5
    timeout_s: float = 30.0

    @classmethod
    def from_config(cls, cfg: dict) -> ArchiveSpec:
        """Build from the config's ``archive`` mapping (unknown keys are an error)."""
        known = set(cls.__dataclass_fields__)
        unknown = set(cfg) - known
        if unknown:
            raise ValueError(f"unknown archive key(s): {sorted(unknown)}")
        return cls(**cfg)

    @property
    def is_s3(self) -> bool:
        """True for ``s3://`` archives."""
        return self.url.startswith("s3://")

    def describe(self) -> dict:
        """The spec as a plain dict (it never holds credentials)."""
        return asdict(self)


@dataclass(frozen=True)
class ObjectInfo:
    """One channel-day object of an archive listing."""

    path: str
    size: int
    etag: str
    channel_day: ChannelDay = field(compare=False)

    def to_dict(self) -> dict:
        """JSON-able record (codes flattened)."""
        cd = self.channel_day
        return {
            "path": self.path,
            "size": self.size,
            "etag": self.etag,
            "network": cd.network,
            "station": cd.station,
            "location": cd.location,
            "channel": cd.channel,
            "seed_id": cd.seed_id,
        }


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _PERMANENT):
        return False
    if isinstance(exc, (OSError, TimeoutError)):
        return True
    try:
        from botocore.exceptions import BotoCoreError, NoCredentialsError
    except ImportError:  # local archives do not need botocore
        return False
    return isinstance(exc, BotoCoreError) and not isinstance(exc, NoCredentialsError)


class Archive:
    """A waveform archive: list a day's channel objects, read miniSEED and StationXML."""

    def __init__(self, spec: ArchiveSpec):
        self.spec = spec
        self.layout = get_layout(spec.layout)
        self.stationxml_template = spec.stationxml or self.layout.default_stationxml
        if spec.is_s3:
            import s3fs

            self.fs = s3fs.S3FileSystem(
                anon=spec.anon,
                endpoint_url=spec.endpoint_url,
                skip_instance_cache=True,
                config_kwargs={
                    "connect_timeout": spec.timeout_s,
                    "read_timeout": spec.timeout_s,
                    "retries": {"max_attempts": 1},
                },
            )
            self.root = spec.url[len("s3://") :].rstrip("/")
        else:
            self.fs = fsspec.filesystem("file")
            self.root = os.path.abspath(spec.url)

    # -- helpers ---------------------------------------------------------------------------
    def url_of(self, relpath: str) -> str:
        """Full URL of an object, for messages."""
        return f"{self.spec.url.rstrip('/')}/{relpath}"

    def _abs(self, relpath: str) -> str:
        return posixpath.join(self.root, relpath)

    def _retry(self, what: str, func: Callable[[], T]) -> T:
        delay = self.spec.backoff_s
        attempt = 1
        while True:
            try:
                return func()
            except Exception as exc:  # classified below
                if isinstance(exc, PermissionError):
                    raise AccessDenied(f"{what}: access denied ({exc})") from exc
                if not _is_transient(exc):
                    raise
                if attempt >= self.spec.retries:
                    where = self.spec.endpoint_url or self.spec.url
                    raise ArchiveUnreachable(
                        f"{what}: archive {where} unreachable after {attempt} attempt(s): "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                log.warning("%s: %s (attempt %d, retrying in %.1f s)", what, exc, attempt, delay)
                time.sleep(delay)
                delay *= 2
                attempt += 1

    # -- listing ---------------------------------------------------------------------------
    def check_reachable(self) -> None:
        """Raise :class:`ArchiveUnreachable` unless the archive root can be listed."""
        if not self.spec.is_s3 and not os.path.isdir(self.root):
            raise ArchiveUnreachable(f"archive directory {self.root} does not exist")
        bucket = self.root.split("/")[0]

        def probe() -> None:
            try:
                self.fs.ls(bucket if self.spec.is_s3 else self.root, detail=False)
            except FileNotFoundError:
                raise ArchiveUnreachable(
                    f"archive {self.spec.url}: bucket or path not found"
                ) from None

        self._retry(f"listing {self.spec.url}", probe)

    def list_day(self, day: UTCDateTime, selection: Selection | None = None) -> list[ObjectInfo]:
        """Objects of one day that pass ``selection``, sorted by path.

        Files that do not follow the layout's naming, or belong to another day, are
        ignored. Local files get an ``md5:`` checksum as ETag.
        """
        day = UTCDateTime(day.date)
        selection = selection or Selection()
        entries: list[dict] = []
        for prefix in self.layout.day_prefixes(day):
            pattern = self._abs(prefix)
            if any(c in prefix for c in "*?["):
                glob = posixpath.join(pattern, f"*.{day.year:04d}.{day.julday:03d}")
                found = self._retry(
                    f"listing {self.url_of(prefix)}", lambda g=glob: self.fs.glob(g, detail=True)
                )
                entries.extend(found.values())
            else:
                try:
                    entries.extend(
                        self._retry(
                            f"listing {self.url_of(prefix)}",
                            lambda p=pattern: self.fs.ls(p, detail=True),
                        )
                    )
                except FileNotFoundError:
                    log.info("no objects under %s", self.url_of(prefix))
        objects = []
        for entry in entries:
            if entry.get("type", "file") != "file":
                continue
            name = posixpath.basename(entry["name"])
            cd = self.layout.parse(name)
            if cd is None or (cd.year, cd.doy) != (day.year, day.julday):
                continue
            if not selection.accepts(cd):
                continue
            relpath = posixpath.relpath(entry["name"], self.root)
            objects.append(ObjectInfo(relpath, int(entry["size"]), self._etag(entry, relpath), cd))
        return sorted(objects, key=lambda o: o.path)

    def _etag(self, entry: dict, relpath: str) -> str:
        """``md5:<hex>`` for local files and single-part S3 objects, else ``etag:<S3 ETag>``."""
        etag = (entry.get("ETag") or entry.get("etag") or "").strip('"')
        if not etag:
            return f"md5:{self._md5(relpath)}"
        return f"md5:{etag}" if len(etag) == 32 and "-" not in etag else f"etag:{etag}"

    def _md5(self, relpath: str) -> str:
        h = hashlib.md5(usedforsecurity=False)
        with self.fs.open(self._abs(relpath), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    # -- reading ---------------------------------------------------------------------------
    def read_bytes(self, relpath: str) -> bytes:
        """Whole object as bytes; :class:`ObjectNotFound` when it does not exist."""
        try:
            return self._retry(
                f"reading {self.url_of(relpath)}", lambda: self.fs.cat_file(self._abs(relpath))
            )
        except FileNotFoundError:
            raise ObjectNotFound(f"{self.url_of(relpath)}: no such object") from None

    def read_stream(self, relpath: str, headonly: bool = False) -> obspy.Stream:
        """miniSEED object as an ObsPy stream; :class:`CorruptObject` when undecodable."""
        data = self.read_bytes(relpath)
        if not data:
            raise CorruptObject(f"{self.url_of(relpath)}: empty miniSEED object")
        try:
            st = obspy.read(io.BytesIO(data), format="MSEED", headonly=headonly)
        except Exception as exc:  # any decoder failure: corrupt
            raise CorruptObject(
                f"{self.url_of(relpath)}: corrupt miniSEED ({type(exc).__name__}: {exc})"
            ) from exc
        if len(st) == 0:
            raise CorruptObject(f"{self.url_of(relpath)}: miniSEED object holds no records")
        return st

    def stationxml_path(self, network: str, station: str) -> str:
        """Relative path of a station's StationXML."""
        return self.stationxml_template.format(network=network, station=station)

    def read_inventory(self, network: str, station: str) -> tuple[obspy.Inventory, str]:
        """A station's StationXML and its ``md5:`` checksum.

        Raises :class:`ObjectNotFound` or :class:`CorruptObject` naming the object.
        """
        relpath = self.stationxml_path(network, station)
        data = self.read_bytes(relpath)
        try:
            inv = obspy.read_inventory(io.BytesIO(data), format="STATIONXML")
        except Exception as exc:  # any parser failure: corrupt
            raise CorruptObject(
                f"{self.url_of(relpath)}: unreadable StationXML ({type(exc).__name__}: {exc})"
            ) from exc
        return inv, "md5:" + hashlib.md5(data, usedforsecurity=False).hexdigest()
