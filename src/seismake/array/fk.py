"""Sliding-window FK (conventional beamforming) per frequency band, Cardinal style.

For each window of ``nsamp = int(win * fs)`` samples, advanced by
``nstep = int(nsamp * step / win)`` samples, every element's record is demeaned,
tapered with ObsPy's cosine taper (p = 0.22) and Fourier transformed with
``nfft`` = the next power of two >= ``nsamp``. The DFT bins
``nlow = max(1, int(fmin / df + 0.5))`` .. ``nhigh = min(nfft // 2 - 1, int(fmax / df + 0.5))``
(``df = fs / nfft``) are kept. At every slowness grid point ``g`` the beam power is

    P(g) = sum_f | sum_i X_i(f) exp(+2 pi i f (g - c) . r_i) |^2

(``r_i`` element positions in km relative to the array centre, ``c`` the static slowness
correction ``sl_corr``), and the relative power (semblance) is
``P(g) / (N * sum_f sum_i |X_i(f)|^2)``, in [0, 1]. These are exactly the window
positions, taper, FFT length, bins and normalisation of ObsPy's
``array_processing(..., prewhiten=0, method=0)``. The one difference: ObsPy stops one
window early when the last window ends exactly on the last sample; seismake keeps
every window that fits in the data.

ObsPy's cross-spectral matrix ``R = X X^H`` of one window and frequency has rank one, so
``e^H R e = |e^H X|^2``: seismake forms the beams directly, as one complex matrix
product per frequency for a whole block of windows (the CSM costs N^2 per grid point,
the beam N). Spectra are scaled to unit energy per window and the beams formed in
single precision (relative power accurate to ~1e-6). Steering vectors are computed once
per band and held in memory: N_freq x N x n_grid complex64 (90 bins x 9 elements x
41^2 points: 11 MB). Blocks of windows run on a thread pool of ``n_workers`` threads
(NumPy FFTs and BLAS release the GIL), each with one OpenBLAS thread.

Conventions: grid slownesses ``sll_x..slm_x`` (east), ``sll_y..slm_y`` (north), step
``sl_s``, s/km, with ObsPy's grid size ``int((slm - sll) / sl_s + 0.5) + 1``. The grid
peak ``g`` is a propagation slowness of the shifted records; as in Cardinal, the
static correction is subtracted, ``s = g - sl_corr``, before the backazimuth (degrees
in [0, 360)) and trace velocity ``1 / |s|`` (km/s) are computed. ``sl_corr`` is thus a
slowness vector pointing towards the expected source (Cardinal's
``convert_to_slowness(baz, vel)``), which centres the grid on that source. Times are
POSIX seconds of the window centres, ``window start + nsamp / (2 fs)``.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from obspy import Stream, UTCDateTime
from obspy.signal.invsim import cosine_taper

from seismake.array.geometry import (
    ArrayGeometry,
    ArrayStreamError,
    array_geometry,
    baz_velocity,
    check_sampling_rates,
)

log = logging.getLogger(__name__)

TAPER_FRACTION = 0.22
BLOCK_BYTES = 32 * 2**20
BEAM_BYTES = 2 * 2**20


@dataclass(frozen=True)
class SlownessGrid:
    """Regular slowness grid, s/km (ObsPy's ``sll_x, slm_x, sll_y, slm_y, sl_s``)."""

    sll_x: float = -3.6
    slm_x: float = 3.6
    sll_y: float = -3.6
    slm_y: float = 3.6
    sl_s: float = 0.18

    def __post_init__(self) -> None:
        if not self.sl_s > 0:
            raise ValueError(f"slowness step sl_s must be positive, got {self.sl_s}")
        if self.slm_x < self.sll_x or self.slm_y < self.sll_y:
            raise ValueError(
                f"slowness grid upper bounds ({self.slm_x}, {self.slm_y}) below lower bounds "
                f"({self.sll_x}, {self.sll_y})"
            )

    @property
    def n_x(self) -> int:
        """Number of grid points along east."""
        return int((self.slm_x - self.sll_x) / self.sl_s + 0.5) + 1

    @property
    def n_y(self) -> int:
        """Number of grid points along north."""
        return int((self.slm_y - self.sll_y) / self.sl_s + 0.5) + 1

    @property
    def sx(self) -> np.ndarray:
        """East slownesses of the grid, s/km, shape (n_x,)."""
        return self.sll_x + np.arange(self.n_x) * self.sl_s

    @property
    def sy(self) -> np.ndarray:
        """North slownesses of the grid, s/km, shape (n_y,)."""
        return self.sll_y + np.arange(self.n_y) * self.sl_s


@dataclass(frozen=True)
class BandFK:
    """Sliding-window FK results of one frequency band, one value per window.

    Attributes
    ----------
    times
        Window centres, POSIX seconds, shape (N_t,).
    backazimuth
        Degrees in [0, 360), shape (N_t,); NaN for windows without energy.
    velocity
        Trace velocity, km/s, shape (N_t,); NaN for windows without energy.
    semblance
        Relative power at the grid peak, in [0, 1], shape (N_t,).
    beam_power
        Absolute beam power at the grid peak (ObsPy's ``abspow``), shape (N_t,).
    slowness_x, slowness_y
        Peak propagation slowness after the static correction, s/km, shape (N_t,).
    fmin, fmax, win, step
        Requested band (Hz), window length and step (s).
    fs
        Sampling rate, Hz.
    nsamp, nstep, nfft
        Window length, step and FFT length in samples.
    freqs
        DFT frequencies used, Hz, shape (N_freq,).
    """

    times: np.ndarray
    backazimuth: np.ndarray
    velocity: np.ndarray
    semblance: np.ndarray
    beam_power: np.ndarray
    slowness_x: np.ndarray
    slowness_y: np.ndarray
    fmin: float
    fmax: float
    win: float
    step: float
    fs: float
    nsamp: int
    nstep: int
    nfft: int
    freqs: np.ndarray

    @property
    def window_starts(self) -> np.ndarray:
        """Window starts, POSIX seconds, shape (N_t,)."""
        return self.times - self.nsamp / (2.0 * self.fs)


@dataclass(frozen=True)
class MultiBandFK:
    """FK results of several bands on a common time axis (Cardinal's T, B, V, S).

    Attributes
    ----------
    times
        Window centres of the band with the shortest step, POSIX seconds, shape (N_t,).
    backazimuth, velocity, semblance
        Shape (N_f, N_t): degrees in [0, 360), km/s, relative power. Each band is
        resampled onto ``times`` by nearest neighbour; times farther than half a step
        outside a band's first or last window centre are NaN.
    f_bands
        The bands (columns band, fmin, fcenter, fmax, win, step), N_f rows.
    element
        Reference element (station code or trace id).
    geometry
        Element ids and positions.
    grid
        Slowness grid.
    sl_corr
        Static slowness correction (east, north), s/km.
    fs
        Sampling rate, Hz.
    t_start, t_end
        Processed span, POSIX seconds.
    """

    times: np.ndarray
    backazimuth: np.ndarray
    velocity: np.ndarray
    semblance: np.ndarray
    f_bands: pd.DataFrame
    element: str
    geometry: ArrayGeometry
    grid: SlownessGrid
    sl_corr: tuple[float, float]
    fs: float
    t_start: float
    t_end: float
    bands: list[BandFK] = field(default_factory=list, repr=False, compare=False)


@dataclass(frozen=True)
class _ArrayData:
    data: np.ndarray
    fs: float
    t_start: UTCDateTime
    t_end: UTCDateTime
    geometry: ArrayGeometry
    element: str


def _reference_trace(st: Stream, element: str):
    for tr in st:
        if element in (tr.stats.station, tr.id):
            return tr
    names = ", ".join(tr.id for tr in st)
    raise ArrayStreamError(f"reference element {element!r} is not in the stream ({names})")


def _resolve_time(value, reference: UTCDateTime, default: UTCDateTime) -> UTCDateTime:
    if value is None:
        return default
    if isinstance(value, UTCDateTime):
        return value
    return reference + float(value)


def _array_data(
    st: Stream,
    element: str,
    t_start: UTCDateTime | float | None,
    t_end: UTCDateTime | float | None,
) -> _ArrayData:
    """Check the stream and cut the records of the common span, shape (N, n)."""
    fs = check_sampling_rates(st)
    geometry = array_geometry(st)
    if len(st) < 2:
        raise ArrayStreamError(f"an array needs at least two elements, got {len(st)} ({st[0].id})")
    ref = _reference_trace(st, element)
    t0 = _resolve_time(t_start, ref.stats.starttime, max(tr.stats.starttime for tr in st))
    t1 = _resolve_time(t_end, ref.stats.starttime, min(tr.stats.endtime for tr in st))
    if t1 <= t0:
        raise ArrayStreamError(
            f"empty processing span {t0} - {t1}: the traces do not overlap there"
        )
    n = int(np.floor((t1 - t0) * fs + 0.5)) + 1
    data = np.empty((len(st), n))
    for i, tr in enumerate(st):
        if np.ma.isMaskedArray(tr.data) and np.ma.is_masked(tr.data):
            raise ArrayStreamError(
                f"trace {tr.id} has gaps (masked samples); merge with a fill value first"
            )
        i0 = int(np.floor((t0 - tr.stats.starttime) * fs + 0.5))
        if i0 < 0 or i0 + n > tr.stats.npts:
            raise ArrayStreamError(
                f"trace {tr.id} ({tr.stats.starttime} - {tr.stats.endtime}) does not cover "
                f"the processing span {t0} - {t1}"
            )
        data[i] = np.asarray(tr.data[i0 : i0 + n], dtype=float)
    if not np.all(np.isfinite(data)):
        bad = [st[i].id for i in np.flatnonzero(~np.isfinite(data).all(axis=1))]
        raise ArrayStreamError(f"traces {', '.join(bad)} contain NaN or Inf samples")
    return _ArrayData(data, fs, t0, t1, geometry, element)


def _steering(freqs: np.ndarray, xy_km: np.ndarray, grid: SlownessGrid, sl_corr) -> np.ndarray:
    """Steering vectors exp(+2 pi i f (g - c) . r), complex64, shape (N_freq, N, n_x * n_y).

    ``freqs`` are equally spaced; the phasors of successive frequencies are obtained by
    multiplying with the phasor of the spacing (in double precision, error ~1e-14).
    """
    gx, gy = np.meshgrid(grid.sx - sl_corr[0], grid.sy - sl_corr[1], indexing="ij")
    tau = xy_km[:, :1] * gx.ravel()[None, :] + xy_km[:, 1:] * gy.ravel()[None, :]
    out = np.empty((freqs.size, *tau.shape), dtype=np.complex64)
    phasor = np.exp(2j * np.pi * freqs[0] * tau)
    if freqs.size > 1:
        rotation = np.exp(2j * np.pi * (freqs[1] - freqs[0]) * tau)
    for k in range(freqs.size):
        out[k] = phasor
        if k + 1 < freqs.size:
            phasor *= rotation
    return out


def _beam_block(
    windows: np.ndarray, taper: np.ndarray, nfft: int, nlow: int, steer: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Peak relative power, peak beam power and peak grid index of a block of windows.

    ``windows`` has shape (N, B, nsamp); returns three arrays of shape (B,). Spectra are
    scaled per window to unit energy before the beams are formed in single precision
    (``steer`` is complex64), so the relative power is accurate to about 1e-6.
    """
    nf = steer.shape[0]
    x = windows - windows.mean(axis=-1, keepdims=True)
    x *= taper
    spec = np.fft.rfft(x, nfft, axis=-1)[:, :, nlow : nlow + nf]
    energy = (spec.real**2 + spec.imag**2).sum(axis=(0, 2))
    scale = np.divide(1.0, np.sqrt(energy), out=np.zeros_like(energy), where=energy > 0)
    spec = np.ascontiguousarray((spec * scale[None, :, None]).transpose(2, 1, 0), np.complex64)
    power = np.zeros((spec.shape[1], steer.shape[2]), dtype=np.float32)
    for k in range(nf):
        beam = spec[k] @ steer[k]
        power += beam.real**2
        power += beam.imag**2
    idx = power.argmax(axis=1)
    peak = power[np.arange(power.shape[0]), idx].astype(float)
    return peak / spec.shape[2], peak * energy, idx


def _beam_rows(steer: np.ndarray) -> int:
    """Windows per block: keeps one frequency's beams (rows x grid, complex64) near 2 MiB."""
    return max(8, min(128, BEAM_BYTES // (8 * steer.shape[2])))


def _openblas_thread_setter() -> Callable[[int], int] | None:
    """``openblas_set_num_threads_local`` of the OpenBLAS NumPy has loaded, if any.

    The beams are many small matrix products; OpenBLAS threading only adds overhead to
    them and oversubscribes the cores when ``n_workers`` threads run at once, so each
    block runs with one BLAS thread (set per calling thread, restored afterwards).
    """
    if not sys.platform.startswith("linux"):
        return None
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    for path in sorted(paths):
        try:
            func = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        func.argtypes = [ctypes.c_int]
        func.restype = ctypes.c_int
        return func
    return None


def _with_one_blas_thread(fn: Callable, setter: Callable[[int], int] | None) -> Callable:
    if setter is None:
        return fn

    def wrapped(arg):
        previous = setter(1)
        try:
            return fn(arg)
        finally:
            setter(previous)

    return wrapped


def _dft_bins(fs: float, nsamp: int, fmin: float, fmax: float) -> tuple[int, int, np.ndarray]:
    """FFT length, first bin and frequencies (Hz) of the band, as ObsPy selects them."""
    nfft = 1 << (nsamp - 1).bit_length()
    deltaf = fs / nfft
    nlow = max(1, int(fmin / deltaf + 0.5))
    nhigh = min(nfft // 2 - 1, int(fmax / deltaf + 0.5))
    if nhigh < nlow:
        raise ValueError(
            f"band {fmin:g}-{fmax:g} Hz holds no DFT bin of a {nsamp}-sample window at "
            f"{fs:g} Hz (bin spacing {deltaf:g} Hz, Nyquist excluded)"
        )
    return nfft, nlow, (nlow + np.arange(nhigh - nlow + 1)) * deltaf


def _window_count(n: int, nsamp: int, nstep: int) -> int:
    return 0 if n < nsamp else (n - nsamp) // nstep + 1


def _band_fk(
    arr: _ArrayData,
    fmin: float,
    fmax: float,
    win: float,
    step: float,
    grid: SlownessGrid,
    sl_corr: tuple[float, float],
    run: Callable[[Callable, Iterable], Iterable],
) -> BandFK:
    fs = arr.fs
    if not 0 < fmin < fmax:
        raise ValueError(f"band needs 0 < fmin < fmax, got {fmin} - {fmax} Hz")
    if not (win > 0 and step > 0):
        raise ValueError(f"window and step must be positive, got {win} s and {step} s")
    nsamp = int(win * fs)
    nstep = int(nsamp * (step / win))
    if nsamp < 2 or nstep < 1:
        raise ValueError(f"window {win} s / step {step} s is shorter than a sample at {fs} Hz")
    nfft, nlow, freqs = _dft_bins(fs, nsamp, fmin, fmax)
    n_win = _window_count(arr.data.shape[1], nsamp, nstep)
    starts = arr.t_start.timestamp + np.arange(n_win) * nstep / fs
    if n_win == 0:
        log.warning(
            "band %g-%g Hz: window %g s longer than the %g s of data; no estimate",
            fmin,
            fmax,
            win,
            (arr.data.shape[1] - 1) / fs,
        )
        rel = peak = np.empty(0)
        idx = np.empty(0, dtype=int)
    else:
        steer = _steering(freqs, arr.geometry.xy_km, grid, sl_corr)
        taper = cosine_taper(nsamp, p=TAPER_FRACTION)
        windows = sliding_window_view(arr.data, nsamp, axis=-1)[:, ::nstep][:, :n_win]
        size = max(1, min(BLOCK_BYTES // (arr.data.shape[0] * nfft * 24), _beam_rows(steer)))
        blocks = [slice(i, min(i + size, n_win)) for i in range(0, n_win, size)]
        task = _with_one_blas_thread(
            lambda sl: _beam_block(windows[:, sl], taper, nfft, nlow, steer),
            _openblas_thread_setter(),
        )
        parts = list(run(task, blocks))
        rel, peak, idx = (np.concatenate(p) for p in zip(*parts, strict=True))
    ix, iy = np.divmod(idx, grid.n_y)
    slow_x = grid.sx[ix] - sl_corr[0]
    slow_y = grid.sy[iy] - sl_corr[1]
    baz, vel = baz_velocity(slow_x, slow_y)
    silent = peak <= 0
    if silent.any():
        log.warning("band %g-%g Hz: %d windows without energy", fmin, fmax, int(silent.sum()))
        baz[silent] = np.nan
        vel[silent] = np.nan
    log.info(
        "band %g-%g Hz: %d windows of %d samples, %d bins, %d grid points",
        fmin,
        fmax,
        n_win,
        nsamp,
        freqs.size,
        grid.n_x * grid.n_y,
    )
    return BandFK(
        times=starts + nsamp / (2.0 * fs),
        backazimuth=baz,
        velocity=vel,
        semblance=rel,
        beam_power=peak,
        slowness_x=slow_x,
        slowness_y=slow_y,
        fmin=float(fmin),
        fmax=float(fmax),
        win=float(win),
        step=float(step),
        fs=fs,
        nsamp=nsamp,
        nstep=nstep,
        nfft=nfft,
        freqs=freqs,
    )


def _check_workers(n_workers: int) -> int:
    if int(n_workers) < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    return int(n_workers)


def sliding_time_array_fk(
    st: Stream,
    element: str,
    fmin: float,
    fmax: float,
    win: float,
    step: float,
    t_start: UTCDateTime | float | None = None,
    t_end: UTCDateTime | float | None = None,
    n_workers: int = 1,
    sll_x: float = -3.6,
    slm_x: float = 3.6,
    sll_y: float = -3.6,
    slm_y: float = 3.6,
    sl_s: float = 0.18,
    sl_corr: tuple[float, float] = (0.0, 0.0),
) -> BandFK:
    """Sliding-window FK of one frequency band.

    Parameters
    ----------
    st
        One trace per element, one sampling rate, ``stats.coordinates`` set
        (see :mod:`seismake.array.geometry`).
    element
        Reference element, a station code or trace id; numeric ``t_start``/``t_end``
        count from its start time.
    fmin, fmax
        Band, Hz.
    win, step
        Window length and step, seconds.
    t_start, t_end
        Processed span: UTCDateTime, seconds after the reference element's start, or
        None for the span common to all traces.
    n_workers
        Threads over blocks of windows.
    sll_x, slm_x, sll_y, slm_y, sl_s
        Slowness grid, s/km.
    sl_corr
        Static slowness correction (east, north), s/km; see the module docstring.

    Returns
    -------
    BandFK
        One estimate per window (N_t windows).
    """
    n_workers = _check_workers(n_workers)
    grid = SlownessGrid(sll_x, slm_x, sll_y, slm_y, sl_s)
    arr = _array_data(st, element, t_start, t_end)
    corr = (float(sl_corr[0]), float(sl_corr[1]))
    if n_workers == 1:
        return _band_fk(arr, fmin, fmax, win, step, grid, corr, map)
    with ThreadPoolExecutor(n_workers) as pool:
        return _band_fk(arr, fmin, fmax, win, step, grid, corr, pool.map)


def _nearest(times: np.ndarray, band: BandFK) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest window of ``band`` for each of ``times`` and a coverage mask."""
    tb = band.times
    if tb.size == 0:
        return np.zeros(times.size, dtype=int), np.zeros(times.size, dtype=bool)
    pos = np.clip(np.searchsorted(tb, times), 1, max(tb.size - 1, 1))
    left = np.clip(pos - 1, 0, tb.size - 1)
    right = np.clip(pos, 0, tb.size - 1)
    idx = np.where(np.abs(times - tb[right]) < np.abs(times - tb[left]), right, left)
    half = 0.5 * band.nstep / band.fs * (1.0 + 1e-9)
    covered = (times >= tb[0] - half) & (times <= tb[-1] + half)
    return idx, covered


def sliding_time_array_fk_multifreq(
    st: Stream,
    element: str,
    f_bands: pd.DataFrame,
    t_start: UTCDateTime | float | None = None,
    t_end: UTCDateTime | float | None = None,
    n_workers: int = 1,
    sll_x: float = -3.6,
    slm_x: float = 3.6,
    sll_y: float = -3.6,
    slm_y: float = 3.6,
    sl_s: float = 0.18,
    sl_corr: tuple[float, float] = (0.0, 0.0),
) -> MultiBandFK:
    """Sliding-window FK in every band of ``f_bands``, on one time axis.

    Parameters
    ----------
    st, element, t_start, t_end, sll_x, slm_x, sll_y, slm_y, sl_s, sl_corr
        As for :func:`sliding_time_array_fk`.
    f_bands
        Bands with columns fmin, fmax, win, step (and band, fcenter), as made by
        :mod:`seismake.array.fbands`.
    n_workers
        Threads over blocks of windows of every band (one pool for all bands).

    Returns
    -------
    MultiBandFK
        ``times`` of the band with the shortest step (N_t) and (N_f, N_t) arrays of
        backazimuth, trace velocity and semblance (nearest neighbour in time; NaN
        outside a band's coverage). The per-band results are in ``bands``.
    """
    n_workers = _check_workers(n_workers)
    missing = {"fmin", "fmax", "win", "step"} - set(f_bands.columns)
    if missing:
        raise ValueError(f"f_bands lacks columns {sorted(missing)}")
    if len(f_bands) == 0:
        raise ValueError("f_bands has no rows")
    grid = SlownessGrid(sll_x, slm_x, sll_y, slm_y, sl_s)
    arr = _array_data(st, element, t_start, t_end)
    corr = (float(sl_corr[0]), float(sl_corr[1]))
    rows = list(f_bands[["fmin", "fmax", "win", "step"]].itertuples(index=False))

    def one(run):
        return [_band_fk(arr, r.fmin, r.fmax, r.win, r.step, grid, corr, run) for r in rows]

    if n_workers == 1:
        bands = one(map)
    else:
        with ThreadPoolExecutor(n_workers) as pool:
            bands = one(pool.map)
    steps = np.array([b.nstep / b.fs if b.times.size else np.inf for b in bands])
    ref = bands[int(np.argmin(steps))]
    times = ref.times
    shape = (len(bands), times.size)
    baz, vel, semb = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    for k, band in enumerate(bands):
        idx, covered = _nearest(times, band)
        if band.times.size:
            baz[k, covered] = band.backazimuth[idx[covered]]
            vel[k, covered] = band.velocity[idx[covered]]
            semb[k, covered] = band.semblance[idx[covered]]
    table = f_bands.reset_index(drop=True).copy()
    if "band" not in table.columns:
        table.insert(0, "band", np.arange(1, len(table) + 1))
    if "fcenter" not in table.columns:
        table.insert(2, "fcenter", 0.5 * (table["fmin"] + table["fmax"]))
    return MultiBandFK(
        times=times,
        backazimuth=baz,
        velocity=vel,
        semblance=semb,
        f_bands=table[["band", "fmin", "fcenter", "fmax", "win", "step"]],
        element=element,
        geometry=arr.geometry,
        grid=grid,
        sl_corr=corr,
        fs=arr.fs,
        t_start=arr.t_start.timestamp,
        t_end=arr.t_end.timestamp,
        bands=bands,
    )


def slowness_power_map(
    st: Stream,
    element: str,
    fmin: float,
    fmax: float,
    t_center: UTCDateTime | float,
    win: float,
    sll_x: float = -3.6,
    slm_x: float = 3.6,
    sll_y: float = -3.6,
    slm_y: float = 3.6,
    sl_s: float = 0.18,
    sl_corr: tuple[float, float] = (0.0, 0.0),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relative power over the slowness grid for one window.

    Parameters
    ----------
    st, element, fmin, fmax, sll_x, slm_x, sll_y, slm_y, sl_s, sl_corr
        As for :func:`sliding_time_array_fk`.
    t_center
        Window centre: UTCDateTime, or POSIX seconds (a float).
    win
        Window length, seconds.

    Returns
    -------
    sx, sy
        Propagation slownesses after the static correction, s/km, shapes (n_x,), (n_y,).
    relpow
        Relative power, shape (n_x, n_y), indexed [east, north].
    """
    grid = SlownessGrid(sll_x, slm_x, sll_y, slm_y, sl_s)
    t_center = UTCDateTime(t_center)
    fs = check_sampling_rates(st)
    nsamp = int(win * fs)
    t0 = t_center - nsamp / (2.0 * fs)
    arr = _array_data(st, element, t0, t0 + (nsamp - 1) / fs)
    nfft, nlow, freqs = _dft_bins(fs, nsamp, fmin, fmax)
    corr = (float(sl_corr[0]), float(sl_corr[1]))
    steer = _steering(freqs, arr.geometry.xy_km, grid, corr)
    x = arr.data[:, :nsamp] - arr.data[:, :nsamp].mean(axis=1, keepdims=True)
    x *= cosine_taper(nsamp, p=TAPER_FRACTION)
    spec = np.fft.rfft(x, nfft, axis=-1)[:, nlow : nlow + freqs.size]
    beams = np.einsum("fig,if->fg", steer, spec)
    denom = spec.shape[0] * np.sum(np.abs(spec) ** 2)
    power = np.sum(np.abs(beams) ** 2, axis=0) / denom if denom > 0 else np.zeros(beams.shape[1])
    return grid.sx - corr[0], grid.sy - corr[1], power.reshape(grid.n_x, grid.n_y)
