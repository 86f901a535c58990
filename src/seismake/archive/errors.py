"""Exceptions raised by archive access. Each message names the object and the problem."""

from __future__ import annotations


class ArchiveError(OSError):
    """Base class for problems with an archive or one of its objects."""


class ArchiveUnreachable(ArchiveError):
    """The archive (endpoint, bucket or directory) could not be reached after retries."""


class ObjectNotFound(ArchiveError):
    """An object the layout names does not exist in the archive."""


class CorruptObject(ArchiveError):
    """An object exists but cannot be decoded (corrupt miniSEED, truncated StationXML, ...)."""


class AccessDenied(ArchiveError):
    """The store refused access to an object (private object read anonymously, ...)."""
