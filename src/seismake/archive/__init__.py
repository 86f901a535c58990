"""Archive access: local directories and S3 (anonymous, credentials, custom endpoints),
SCEDC and SDS layouts, per-day manifests and data availability."""

from seismake.archive.availability import scan_day
from seismake.archive.errors import (
    AccessDenied,
    ArchiveError,
    ArchiveUnreachable,
    CorruptObject,
    ObjectNotFound,
)
from seismake.archive.layout import ChannelDay, Selection, get_layout
from seismake.archive.manifest import (
    Manifest,
    build_manifest,
    manifest_digest,
    read_manifest,
    station_pairs,
    write_if_changed,
)
from seismake.archive.store import Archive, ArchiveSpec, ObjectInfo

__all__ = [
    "AccessDenied",
    "Archive",
    "ArchiveError",
    "ArchiveSpec",
    "ArchiveUnreachable",
    "ChannelDay",
    "CorruptObject",
    "Manifest",
    "ObjectInfo",
    "ObjectNotFound",
    "Selection",
    "build_manifest",
    "get_layout",
    "manifest_digest",
    "read_manifest",
    "scan_day",
    "station_pairs",
    "write_if_changed",
]
