"""Large HDF5 datasets written and read past the page cache (``O_DIRECT``).

A day of per-window correlations is gigabytes that one job writes once and a later
job reads once. Through the page cache every page is first allocated and zeroed by
the kernel, which on virtual machines (whose memory is backed on first touch) costs
several times the transfer itself; ``O_DIRECT`` moves the bytes between the device
and the program's buffers instead. :func:`create_direct_dataset` allocates a
contiguous dataset in an open HDF5 file and returns a :class:`DirectDataset` that
writes its byte ranges straight into the file, outside the HDF5 library: the layout
of a contiguous dataset is its C-ordered bytes at one file offset
(:func:`contiguous_offset`); :meth:`DirectDataset.read` reads them back. Where the
file system refuses ``O_DIRECT`` (some network file systems) the transfers are
ordinary ``pwrite`` / ``pread`` calls.
"""

from __future__ import annotations

import mmap
import os
import threading

import h5py
import numpy as np

#: file offsets, sizes and memory addresses of unbuffered writes are multiples of this
ALIGN = 4096
#: bytes staged in an aligned buffer per unbuffered write or read
STAGE_BYTES = 16 * 2**20
_STAGES = threading.local()


def create_direct_dataset(
    h5: h5py.File, name: str, shape: tuple[int, ...], dtype: str = "<f4"
) -> DirectDataset:
    """Create a contiguous dataset with its file space allocated now, unwritten: bytes
    never written read as zeros (a file's unwritten bytes are zeros).

    Parameters
    ----------
    h5 : h5py.File
        Open for writing; the file's path is opened a second time for the data.
    name : str
        Dataset name in the file's root group.
    shape : tuple of int
        Dataset shape (at least one element).
    dtype : str
        Little-endian numpy dtype of the stored values.
    """
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
    space = h5py.h5s.create_simple(tuple(shape))
    dsid = h5py.h5d.create(
        h5.id, name.encode(), h5py.h5t.py_create(np.dtype(dtype)), space, dcpl=dcpl
    )
    offset = dsid.get_offset()
    if offset is None:
        raise ValueError(f"{h5.filename}: dataset {name} of shape {shape} has no storage")
    h5.flush()
    return DirectDataset(h5.filename, offset, tuple(shape), np.dtype(dtype), "w")


def contiguous_offset(dset: h5py.Dataset) -> int | None:
    """File offset of a dataset's bytes when they are one contiguous, allocated,
    unfiltered run in native byte order; None otherwise (read it through h5py)."""
    if dset.chunks is not None or dset.dtype.byteorder not in "=|<" or dset.size == 0:
        return None
    return dset.id.get_offset()


class DirectDataset:
    """Access to a contiguous dataset's bytes in its file.

    ``dataset[index] = values`` (mode ``"w"``) and ``dataset.read(index, out)`` (mode
    ``"r"``) for an ``index`` that selects a contiguous run of the C-ordered array:
    integers on leading axes, optionally ending with a slice of step 1 (e.g. ``d[3]``,
    ``d[2, 5]``, ``d[10:20]``, ``d[4, 0:3]``). Use as a context manager, or call
    :meth:`close`.

    Parameters
    ----------
    path : str
        The HDF5 file.
    offset : int
        File offset of the dataset's first byte, in bytes.
    shape : tuple of int
        Dataset shape.
    dtype : numpy.dtype
        Stored element type (native byte order).
    mode : str
        ``"r"`` or ``"w"``.
    """

    def __init__(
        self, path: str, offset: int, shape: tuple[int, ...], dtype: np.dtype, mode: str = "r"
    ) -> None:
        self.path, self.offset, self.shape, self.dtype = path, offset, shape, np.dtype(dtype)
        flags = {"r": os.O_RDONLY, "w": os.O_WRONLY}[mode]
        self._fd: int | None = os.open(path, flags)
        try:
            self._direct: int | None = os.open(path, flags | os.O_DIRECT)
        except OSError:
            self._direct = None

    def __enter__(self) -> DirectDataset:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the file descriptors (the data are then in the file)."""
        for fd in (self._fd, self._direct):
            if fd is not None:
                os.close(fd)
        self._fd = self._direct = None

    def _byte_range(self, key) -> tuple[int, tuple[int, ...]]:
        """File offset and shape of the run selected by ``key``."""
        key = key if isinstance(key, tuple) else (key,)
        if len(key) > len(self.shape):
            raise IndexError(f"{self.path}: too many indices {key} for shape {self.shape}")
        strides = np.cumprod((1, *self.shape[::-1]))[::-1][1:] * self.dtype.itemsize
        start, shape = 0, list(self.shape)
        for axis, k in enumerate(key):
            if isinstance(k, slice):
                lo, hi, step = k.indices(self.shape[axis])
                if step != 1 or axis != len(key) - 1:
                    raise IndexError(f"{self.path}: index {key} is not a contiguous run")
                start += lo * int(strides[axis])
                shape = [max(0, hi - lo), *self.shape[axis + 1 :]]
                break
            k = int(k)
            if not -self.shape[axis] <= k < self.shape[axis]:
                raise IndexError(f"{self.path}: index {k} out of range for axis {axis}")
            start += (k % self.shape[axis]) * int(strides[axis])
            shape = list(self.shape[axis + 1 :])
        return self.offset + start, tuple(shape)

    def read(self, key, out: np.ndarray) -> None:
        """Copy the run selected by ``key`` into ``out`` (any array of its shape)."""
        offset, shape = self._byte_range(key)
        if out.shape != shape:
            raise ValueError(f"{self.path}: run of shape {shape} read into {out.shape}")
        self._read_run(offset, shape, out)

    def _read_run(self, offset: int, shape: tuple[int, ...], out: np.ndarray) -> None:
        """Read a run at most ``STAGE_BYTES`` (or one innermost row) at a time."""
        size = int(np.prod(shape)) * self.dtype.itemsize
        if size > STAGE_BYTES and len(shape) > 1:
            if shape[0] == 1:
                self._read_run(offset, shape[1:], out[0])
                return
            per = size // shape[0]
            step = max(1, STAGE_BYTES // max(per, 1))
            for i in range(0, shape[0], step):
                n = min(step, shape[0] - i)
                self._read_run(offset + i * per, (n, *shape[1:]), out[i : i + n])
            return
        end = offset + size
        lo, hi = offset // ALIGN * ALIGN, -(-end // ALIGN) * ALIGN
        buffer = _stage(hi - lo)
        stage = memoryview(buffer)
        try:
            if self._direct is not None:
                try:
                    got = _pread_all(self._direct, stage[: hi - lo], lo)
                except OSError:  # the file system refuses O_DIRECT after all
                    os.close(self._direct)
                    self._direct = None
            if self._direct is None:
                got = _pread_all(self._fd, stage[: end - lo], lo)
            if got < end - lo:
                raise OSError(f"{self.path}: file ends inside dataset bytes {offset}-{end}")
            run = np.frombuffer(buffer, self.dtype, size // self.dtype.itemsize, offset - lo)
            np.copyto(out, run.reshape(shape))
            del run
        finally:
            stage.release()

    def __setitem__(self, key, values) -> None:
        offset, shape = self._byte_range(key)
        data = np.ascontiguousarray(np.broadcast_to(values, shape), dtype=self.dtype)
        self._write(memoryview(data).cast("B"), offset)

    def _write(self, buf: memoryview, offset: int) -> None:
        end = offset + len(buf)
        lo = -(-offset // ALIGN) * ALIGN
        hi = end // ALIGN * ALIGN
        if self._direct is not None and hi > lo:
            stage = memoryview(_stage(STAGE_BYTES))
            try:
                for a in range(lo, hi, STAGE_BYTES):
                    n = min(STAGE_BYTES, hi - a)
                    stage[:n] = buf[a - offset : a - offset + n]
                    _pwrite_all(self._direct, stage[:n], a)
            except OSError:  # the file system refuses O_DIRECT after all
                os.close(self._direct)
                self._direct = None
            else:
                _pwrite_all(self._fd, buf[: lo - offset], offset)
                _pwrite_all(self._fd, buf[hi - offset :], hi)
                return
            finally:
                stage.release()
        _pwrite_all(self._fd, buf, offset)


def _stage(n_bytes: int) -> mmap.mmap:
    """This thread's page-aligned staging buffer of at least ``n_bytes``, kept for reuse
    (fresh memory costs a page fault per page): the largest asked for so far."""
    buffer = getattr(_STAGES, "buffer", None)
    if buffer is None or len(buffer) < n_bytes:
        if buffer is not None:
            buffer.close()
        buffer = _STAGES.buffer = mmap.mmap(-1, max(n_bytes, ALIGN))
    return buffer


def _pread_all(fd: int, buf: memoryview, offset: int) -> int:
    """Read into ``buf`` from ``offset`` up to its length or the end of the file; bytes read."""
    done = 0
    while done < len(buf):
        n = os.preadv(fd, [buf[done:]], offset + done)
        if n == 0:
            break
        done += n
    return done


def _pwrite_all(fd: int, buf: memoryview, offset: int) -> None:
    while len(buf):
        n = os.pwrite(fd, buf, offset)
        buf, offset = buf[n:], offset + n
