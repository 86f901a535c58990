"""Cross-correlation of one day: all station pairs and component combinations at once.

Conventions
-----------
* The correlation of channel 1 with channel 2 is
  ``C12(tau) = sum_t u1(t) u2(t + tau)``, the inverse transform of
  ``conj(X1) X2``. A peak at positive lag is energy that reached station 1
  first and station 2 ``tau`` seconds later (travelling from 1 to 2); the
  negative lags hold energy travelling from 2 to 1.
* Zero lag is the centre sample of the ``2 * round(maxlag * fs) + 1`` lags
  (NoisePy stores it one sample late for even FFT lengths).
* Windows are zero padded to ``next_fast_len(n_len + n_maxlag)`` so that lags
  up to ``maxlag`` are linear correlations without circular wrap-around
  (NoisePy transforms ``next_fast_len(n_len)`` points).

Methods (per window ``w``, spectra after time and spectral normalization)
----------------------------------------------------------------------------
* ``xcorr``: mean over the good windows of ``conj(X1) X2``.
* ``deconv``: mean of ``conj(X1) X2 / s1^2``, ``s1`` the running mean of
  ``|X1|`` over ``smoothspect_N`` bins.
* ``coherency``: the complex coherency of the windows of a (sub)stack,
  ``<conj(X1) X2> / sqrt(<|X1|^2> <|X2|^2>)`` where ``<>`` sums over the
  windows good on both channels and averages over ``smoothspect_N``
  bins; its modulus is at most 1 (Cauchy-Schwarz), it is band-limited with
  the cos^2 band window and scaled so that a fully coherent pair peaks at 1.
  NoisePy computes ``coherency`` like ``xcorr``; the per-window ratio
  ``conj(X1) X2 / (s1 s2)`` is not bounded by 1.

Linear (sub)stacks are computed in the frequency domain: the window-summed
cross-spectra of all channel pairs are one batched complex matrix product per
frequency bin over the window axis. Without time or spectral normalization the
bins above ``BAND_LIMIT_FACTOR`` times the preprocessing's upper corner are left
out. Combinations are correlated a block at a time (:func:`correlation_blocks`) and
written to their target as they come, e.g. straight into the day's HDF5 file while
the next block is computed, so that a day is never held in memory whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.fft
from obspy import Inventory, Stream, UTCDateTime
from obspy.geodetics import gps2dist_azimuth

from seismake.noise.normalize import band_window, normalize_spectra, running_mean, time_normalize
from seismake.noise.params import CorrelationParams
from seismake.noise.preprocess import DayWaveforms, pre_filt, preprocess_day
from seismake.noise.windows import cut_windows, prepare_windows, window_mask

logger = logging.getLogger(__name__)

COMPONENTS_1 = ("ZZ",)
COMPONENTS_3 = ("EE", "EN", "EZ", "NE", "NN", "NZ", "ZE", "ZN", "ZZ")
MEMORY_BYTES = 256 * 2**20
#: bytes of cross-spectra and lagged correlations formed at once
CHUNK_BYTES = 256 * 2**20
#: rows (windows or substacks) inverse-transformed at once, into buffers that stay in cache
LAG_ROWS = 8
#: without normalization, bins above this factor times the preprocessing's upper
#: corner are left out: its filter leaves at most |B|^2 ~ 1.5e-5 of the amplitude there
BAND_LIMIT_FACTOR = 2.0


#: where correlations are written: a numpy array or an h5py dataset
ArrayTarget = Any


def substack_group(params: CorrelationParams, n_win: int) -> int:
    """Windows per (sub)stack: ``substack_windows`` with substacks, else all ``n_win``."""
    return params.substack_windows if params.substack else max(n_win, 1)


def _zeros(shape: tuple[int, ...]) -> np.ndarray:
    return np.zeros(shape, dtype=np.float32)


def components(ncomp: int) -> tuple[str, ...]:
    """Component combinations (station 1 letter, station 2 letter) for ``ncomp`` 1 or 3."""
    return COMPONENTS_1 if ncomp == 1 else COMPONENTS_3


@dataclass
class DayCorrelations:
    """All correlations of one day.

    Attributes
    ----------
    day : str
        ISO date ``YYYY-MM-DD``.
    station1, station2 : numpy.ndarray
        (n_pair,) str ``NET.STA.LOC`` of the two stations of each pair.
    channel1, channel2 : numpy.ndarray
        (n_pair, n_comp) str channel codes per combination ('' where missing).
    coords1, coords2 : numpy.ndarray
        (n_pair, 3) float64 latitude (deg), longitude (deg), elevation (m).
    distance_km, azimuth_deg, backazimuth_deg : numpy.ndarray
        (n_pair,) float64 WGS84 distance and azimuths (station 1 to 2, station 2 to 1).
    components : tuple of str
        (n_comp,) combinations, first letter station 1.
    window_start : numpy.ndarray
        (n_win,) float64 window start times, POSIX s (UTC).
    substack_start : numpy.ndarray
        (n_sub,) float64 start time of each substack's first window, POSIX s.
    ngood : numpy.ndarray
        (n_pair, n_comp, n_sub) int32 windows stacked (0: no data).
    lags_s : numpy.ndarray
        (n_lag,) float64 lags in s, zero at the centre.
    data : numpy.ndarray
        (n_pair, n_comp, n_sub, n_lag) float32 correlations.
    params : CorrelationParams
        Parameters used.
    gap_s : dict
        Seconds missing per channel (gaps and non-finite samples).
    nonfinite : dict
        NaN/Inf samples replaced, per channel that had any.
    dropped : dict
        Reason per dropped channel.
    reason : str
        Why the day has no correlations ('' otherwise).
    """

    day: str
    station1: np.ndarray
    station2: np.ndarray
    channel1: np.ndarray
    channel2: np.ndarray
    coords1: np.ndarray
    coords2: np.ndarray
    distance_km: np.ndarray
    azimuth_deg: np.ndarray
    backazimuth_deg: np.ndarray
    components: tuple[str, ...]
    window_start: np.ndarray
    substack_start: np.ndarray
    ngood: np.ndarray
    lags_s: np.ndarray
    data: np.ndarray
    params: CorrelationParams
    gap_s: dict[str, float] = field(default_factory=dict)
    nonfinite: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    reason: str = ""

    @property
    def n_pair(self) -> int:
        """Number of station pairs."""
        return int(self.station1.size)

    @property
    def sampling_rate(self) -> float:
        """Hz."""
        return float(self.params.sampling_rate)

    @classmethod
    def empty(
        cls,
        day: UTCDateTime,
        params: CorrelationParams,
        reason: str,
        gap_s: Mapping[str, float] | None = None,
        dropped: Mapping[str, str] | None = None,
        nonfinite: Mapping[str, int] | None = None,
    ) -> DayCorrelations:
        """A well-formed day without correlations, with the reason."""
        comps = components(params.ncomp)
        n_comp = len(comps)
        lags = lag_axis(params)
        return cls(
            day=UTCDateTime(day).strftime("%Y-%m-%d"),
            station1=np.zeros(0, dtype=str),
            station2=np.zeros(0, dtype=str),
            channel1=np.zeros((0, n_comp), dtype=str),
            channel2=np.zeros((0, n_comp), dtype=str),
            coords1=np.zeros((0, 3)),
            coords2=np.zeros((0, 3)),
            distance_km=np.zeros(0),
            azimuth_deg=np.zeros(0),
            backazimuth_deg=np.zeros(0),
            components=comps,
            window_start=np.zeros(0),
            substack_start=np.zeros(0),
            ngood=np.zeros((0, n_comp, 0), dtype=np.int32),
            lags_s=lags,
            data=np.zeros((0, n_comp, 0, lags.size), dtype=np.float32),
            params=params,
            gap_s=dict(gap_s or {}),
            nonfinite=dict(nonfinite or {}),
            dropped=dict(dropped or {}),
            reason=reason,
        )


def lag_axis(params: CorrelationParams) -> np.ndarray:
    """Lags in s, ``-maxlag..maxlag`` with zero at the centre sample; (2 L + 1,) float64."""
    n_maxlag = round(params.maxlag * params.sampling_rate)
    return np.arange(-n_maxlag, n_maxlag + 1) / params.sampling_rate


def fft_length(n_len: int, n_maxlag: int) -> int:
    """FFT length for windows of ``n_len`` samples and lags up to ``n_maxlag`` samples."""
    return scipy.fft.next_fast_len(n_len + n_maxlag, real=True)


def _blocks(n: int, size: int) -> list[slice]:
    size = max(1, int(size))
    return [slice(i, min(n, i + size)) for i in range(0, n, size)]


def _map(threads: int, func, items: Sequence) -> list:
    if threads <= 1 or len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(func, items))


@dataclass
class _Spectra:
    """Normalized window spectra of all channels, channel-major, rfft bins ``0:k1``.

    Bins below ``k0`` are zero. With ``deconv`` the left-hand spectra are stored
    already conjugated and divided by the squared smoothed amplitude.
    """

    spec: np.ndarray  # (n_chan, n_pad, k1) complex64, zero for bad windows
    left: np.ndarray | None  # (n_chan, n_pad, k1) complex64 conj(X) / s^2 for deconv
    mask: np.ndarray  # (n_chan, n_pad) bool
    n_fft: int
    k0: int
    k1: int
    window: np.ndarray  # (n_fft // 2 + 1,) band window
    group: int  # windows per substack
    coherency: bool

    def left_conj(self, channel: int, rows: slice = slice(None)) -> np.ndarray:
        """(rows, k1) left-hand factor ``conj(L)`` of a channel's windows ``rows``."""
        if self.left is not None:
            return self.left[channel, rows]
        return np.conj(self.spec[channel, rows])


def _window_spectra(
    windows: np.ndarray, good: np.ndarray, params: CorrelationParams, threads: int
) -> _Spectra:
    n_chan, n_win, n_len = windows.shape
    fs = params.sampling_rate
    n_maxlag = round(params.maxlag * fs)
    n_fft = fft_length(n_len, n_maxlag)
    window, k0, k1 = band_window(n_fft, fs, params.freqmin, params.freqmax)
    band_limited = params.freq_norm != "no" or params.cc_method == "coherency"
    if not band_limited:
        k0, k1 = 0, n_fft // 2 + 1
        if params.time_norm == "no":  # the windows carry the day's preprocessing filter
            f_top = BAND_LIMIT_FACTOR * pre_filt(params)[3]
            k1 = min(k1, int(np.ceil(f_top * n_fft / fs)) + 1)
    group = substack_group(params, n_win)
    n_pad = -(-n_win // group) * group
    spec = np.zeros((n_chan, n_pad, k1), dtype=np.complex64)
    deconv = params.cc_method == "deconv"
    left = np.zeros((n_chan, n_pad, k1), dtype=np.complex64) if deconv else None
    mask = np.zeros((n_chan, n_pad), dtype=bool)
    mask[:, :n_win] = good
    # running means near the band edges need smoothspect_N bins beyond them
    e0 = max(0, k0 - params.smoothspect_N)
    e1 = min(n_fft // 2 + 1, k1 + params.smoothspect_N)
    band = window[e0:e1] if params.freq_norm != "no" else None
    inner = slice(k0 - e0, k1 - e0)

    def run(block: slice) -> None:
        # one zero-padded window matrix per thread, reused channel by channel
        x = np.zeros((n_win, n_fft), dtype=np.float32)
        for c in range(block.start, block.stop):
            prepared = prepare_windows(windows[c], fs, out=x[:, :n_len])
            if params.time_norm != "no":
                x[:, :n_len] = time_normalize(prepared, params.time_norm, params.smooth_N)
            full = scipy.fft.rfft(x, axis=-1)
            spectra = normalize_spectra(
                full[:, e0:e1], params.freq_norm, params.smoothspect_N, band
            )
            spectra[~good[c]] = 0
            spec[c, :n_win, k0:] = spectra[:, inner]
            if left is not None:
                smooth = running_mean(np.abs(spectra), params.smoothspect_N)[:, inner]
                with np.errstate(divide="ignore"):
                    scale = np.where(smooth > 0, 1.0 / smooth**2, 0.0)
                left[c, :n_win, k0:] = np.conj(spectra[:, inner]) * scale

    _map(threads, run, _blocks(n_chan, -(-n_chan // max(threads, 1))))
    coherency = params.cc_method == "coherency"
    return _Spectra(spec, left, mask, n_fft, k0, k1, window, group, coherency)


def _group_cross_spectra(
    sp: _Spectra, ii: np.ndarray, jj: np.ndarray, threads: int, full: np.ndarray
) -> np.ndarray | None:
    """Sum over the windows of each group of ``conj(L_i) R_j`` into ``full[:P, :, :k1]``.

    ``full`` is a (>= P, n_sub, n_fft // 2 + 1) complex64 buffer whose bins from
    ``k1`` on are zero (the inverse FFTs read whole rows). With several
    windows per group and dense combinations this is one batched complex matrix
    product per frequency bin over the window axis; otherwise the products are
    formed per left-hand channel. For coherency also returns the window-summed
    powers ``sum |X_i|^2 m_j`` and ``sum |X_j|^2 m_i`` as (2, P, n_sub, k1) float32.
    """
    n_chan, n_pad, n_bins = sp.spec.shape
    k = sp.group
    n_sub = n_pad // k
    n_p = ii.size
    out = full[:n_p, :, :n_bins]
    power = np.empty((2, n_p, n_sub, n_bins), dtype=np.float32) if sp.coherency else None
    masks = sp.mask.reshape(n_chan, n_sub, k).astype(np.float32)
    rows, row_inv = np.unique(ii, return_inverse=True)
    cols, col_inv = np.unique(jj, return_inverse=True)
    if k > 1 and 4 * n_p >= rows.size * cols.size:
        per_bin = (n_sub * rows.size * cols.size + n_pad * (rows.size + cols.size)) * 8 * 2

        def product(fb: slice) -> None:
            a = np.stack([sp.left_conj(i)[:, fb] for i in rows])  # (R, n_pad, nb)
            a = a.reshape(rows.size, n_sub, k, -1).transpose(3, 1, 0, 2)
            b = sp.spec[cols, :, fb].reshape(cols.size, n_sub, k, -1).transpose(3, 1, 2, 0)
            prod = np.matmul(np.ascontiguousarray(a), np.ascontiguousarray(b))
            out[:, :, fb] = prod[:, :, row_inv, col_inv].transpose(2, 1, 0)

        # the matrix products run on the BLAS library's own threads (Snakemake sets
        # OPENBLAS_NUM_THREADS etc. to the job's threads); more here would oversubscribe
        _map(1, product, _blocks(n_bins, MEMORY_BYTES // max(per_bin, 1)))
    else:

        def product_of(i: int) -> None:
            lc = sp.left_conj(i)
            for p in np.flatnonzero(ii == i):
                if k == 1:
                    np.multiply(lc, sp.spec[jj[p]], out=out[p])
                else:
                    out[p] = (lc * sp.spec[jj[p]]).reshape(n_sub, k, n_bins).sum(axis=1)

        _map(threads, product_of, list(rows))
    if power is not None:
        pw = (sp.spec.real**2 + sp.spec.imag**2).reshape(n_chan, n_sub, k, n_bins)
        power[0] = np.einsum("pgkf,pgk->pgf", pw[ii], masks[jj])
        power[1] = np.einsum("pgkf,pgk->pgf", pw[jj], masks[ii])
    return power


def _to_lags(
    sp: _Spectra,
    combos: tuple[np.ndarray, np.ndarray],
    cross: np.ndarray | None,
    scale: np.ndarray,
    out: np.ndarray,
    buffers: tuple[np.ndarray, np.ndarray],
) -> None:
    """Lags ``-L..L`` of combinations into ``out`` (P, n_sub, 2 L + 1), times ``scale``.

    The inverse FFTs run ``LAG_ROWS`` rows at a time into the small ``buffers``
    (zero-padded cross-spectra, lagged correlations), which stay in cache. ``cross``
    holds the (P, n_sub, n_fft // 2 + 1) window-summed cross-spectra, zero from
    ``k1`` on; with ``None`` the products ``conj(L_i) R_j`` of single windows are
    formed here, a few rows at a time (``combos``: the channel indices ``i, j``).
    """
    padded, lagged = buffers
    n_fft, k1 = sp.n_fft, sp.k1
    n_maxlag = out.shape[-1] // 2
    n_sub = out.shape[1]
    for q in range(out.shape[0]):
        for r0 in range(0, n_sub, LAG_ROWS):
            rows = slice(r0, min(n_sub, r0 + LAG_ROWS))
            m = rows.stop - r0
            if cross is None:
                right = sp.spec[combos[1][q], rows]
                np.multiply(sp.left_conj(combos[0][q], rows), right, out=padded[:m, :k1])
                spectra = padded[:m]
            else:
                spectra = cross[q, rows]
            np.fft.irfft(spectra, n_fft, axis=-1, out=lagged[:m])
            np.multiply(lagged[:m, n_fft - n_maxlag :], scale[q, rows], out=out[q, rows, :n_maxlag])
            np.multiply(lagged[:m, : n_maxlag + 1], scale[q, rows], out=out[q, rows, n_maxlag:])


def window_counts(
    good: np.ndarray, left: np.ndarray, right: np.ndarray, params: CorrelationParams
) -> np.ndarray:
    """Windows good on both channels per combination and (sub)stack; (n_combo, n_sub) int32."""
    n_chan, n_win = good.shape
    group = substack_group(params, n_win)
    n_sub = -(-n_win // group)
    masks = np.zeros((n_chan, n_sub * group), dtype=bool)
    masks[:, :n_win] = good
    masks = masks.reshape(n_chan, n_sub, group)
    return (masks[left] & masks[right]).sum(axis=2).astype(np.int32)


def correlation_blocks(
    windows: np.ndarray,
    good: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    params: CorrelationParams,
    threads: int = 1,
    multiple: int = 1,
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Correlate channel combinations over windows, a block of combinations at a time.

    Parameters are those of :func:`correlate_windows`; blocks hold a multiple of
    ``multiple`` combinations (all but the last).

    Yields
    ------
    lo, hi : int
        The block holds combinations ``lo:hi``.
    block : numpy.ndarray
        (hi - lo, n_sub, n_lag) float32 correlations, zero where no window was
        good on both channels. A view of one of two buffers used in turn: it
        holds until the next block but one is asked for (so it can be written
        out while the next block is computed).
    """
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    n_maxlag = round(params.maxlag * params.sampling_rate)
    ngood = window_counts(good, left, right, params)
    sp = _window_spectra(windows, good, params, threads)
    n_sub = ngood.shape[1]
    n_half = sp.n_fft // 2 + 1
    # single windows without coherency: cross-spectra formed row by row with the FFTs
    summed = sp.group > 1 or sp.coherency
    per_combo = n_sub * ((n_half * 8 if summed else 0) + 2 * (2 * n_maxlag + 1) * 4)
    size = max(1, CHUNK_BYTES // max(per_combo, 1) // multiple) * multiple
    band = sp.window[: sp.k1]
    two_sided = 2 * float(sp.window.sum()) - float(sp.window[0])
    if sp.n_fft % 2 == 0:
        two_sided -= float(sp.window[-1])
    # buffers reused block after block: fresh large arrays cost a page fault per page
    size = min(size, left.size)
    cross = np.zeros((size, n_sub, n_half), dtype=np.complex64) if summed else None
    n_out = 1 if size == left.size else 2
    out_buffers = [
        np.empty((size, n_sub, 2 * n_maxlag + 1), dtype=np.float32) for _ in range(n_out)
    ]
    n_threads = max(1, threads)
    lag_buffers = [
        (np.zeros((LAG_ROWS, n_half), np.complex64), np.empty((LAG_ROWS, sp.n_fft), np.float32))
        for _ in range(n_threads)
    ]
    for lo in range(0, left.size, size):
        hi = min(left.size, lo + size)
        out = out_buffers[(lo // size) % n_out][: hi - lo]
        scale = (1.0 / np.maximum(ngood[lo:hi], 1)).astype(np.float32)[..., None]
        if summed:
            power = _group_cross_spectra(sp, left[lo:hi], right[lo:hi], threads, cross)
            if power is not None:
                _coherency(sp, cross[: hi - lo], power, params.smoothspect_N, band, two_sided)
                scale = np.ones_like(scale)
        # one contiguous piece of the block per thread, each with its own buffers
        pieces = _blocks(hi - lo, -(-(hi - lo) // n_threads))
        tasks = [
            (
                (left[lo:hi][q], right[lo:hi][q]),
                None if cross is None else cross[q],
                scale[q],
                out[q],
                lag_buffers[t],
            )
            for t, q in enumerate(pieces)
        ]
        _map(threads, lambda task: _to_lags(sp, *task), tasks)
        out[ngood[lo:hi] == 0] = 0
        yield lo, hi, out


def _coherency(
    sp: _Spectra,
    cross: np.ndarray,
    power: np.ndarray,
    smoothspect_n: int,
    band: np.ndarray,
    two_sided: float,
) -> None:
    """Turn summed cross-spectra ``cross`` into band-limited coherency, in place.

    Smoothed within the band only, as the running means reflect at its edges;
    scaled so that a fully coherent pair peaks at 1.
    """
    inband = cross[..., sp.k0 : sp.k1]
    num = running_mean(inband.real, smoothspect_n) + 1j * running_mean(inband.imag, smoothspect_n)
    den = np.sqrt(
        running_mean(power[0][..., sp.k0 :], smoothspect_n)
        * running_mean(power[1][..., sp.k0 :], smoothspect_n)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        inband[...] = np.where(den > 0, num / den, 0)
    cross[..., : sp.k1] *= band * np.float32(sp.n_fft / two_sided)


def correlate_windows(
    windows: np.ndarray,
    good: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    params: CorrelationParams,
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Correlate channel combinations over windows, stacking (sub)stacks linearly.

    Parameters
    ----------
    windows : numpy.ndarray
        (n_chan, n_win, n_len) raw window samples (e.g. a strided view of the day).
        Each window is demeaned, detrended, tapered, time- and
        spectrally-normalized here.
    good : numpy.ndarray
        (n_chan, n_win) bool, windows to use per channel.
    left, right : numpy.ndarray
        (n_combo,) int channel indices; combination ``p`` correlates
        ``left[p]`` (station 1) with ``right[p]`` (station 2).
    params : CorrelationParams
        Uses sampling_rate, time_norm, smooth_N, freq_norm, smoothspect_N,
        freqmin, freqmax, cc_method, substack, substack_windows, maxlag.
    threads : int
        Threads for the per-channel FFTs and normalizations, the element-wise
        cross-spectral products and the inverse FFTs; the batched matrix
        products use the BLAS library's threads (``OPENBLAS_NUM_THREADS``,
        which Snakemake sets to the job's threads).

    Returns
    -------
    data : numpy.ndarray
        (n_combo, n_sub, n_lag) float32 correlations on :func:`lag_axis`;
        ``n_sub = ceil(n_win / substack_windows)`` with substacks, else 1.
    ngood : numpy.ndarray
        (n_combo, n_sub) int32 windows good on both channels per substack.
    """
    ngood = window_counts(good, np.asarray(left), np.asarray(right), params)
    data = np.zeros((*ngood.shape, lag_axis(params).size), dtype=np.float32)
    for lo, hi, block in correlation_blocks(windows, good, left, right, params, threads):
        data[lo:hi] = block
    return data, ngood


def station_coordinates(
    inventory: Inventory, ids: Sequence[str], day: UTCDateTime
) -> dict[str, tuple[float, float, float]]:
    """Coordinates of channels from an inventory at noon of ``day``.

    Parameters
    ----------
    inventory : obspy.Inventory
        Station metadata.
    ids : sequence of str
        SEED ids.
    day : obspy.UTCDateTime
        Start of the day.

    Returns
    -------
    dict
        SEED id -> (latitude deg, longitude deg, elevation m); NaN where unknown.
    """
    coords = {}
    for seed_id in ids:
        try:
            c = inventory.get_coordinates(seed_id, UTCDateTime(day) + 43200)
            coords[seed_id] = (float(c["latitude"]), float(c["longitude"]), float(c["elevation"]))
        except Exception as err:
            logger.warning("%s: no coordinates in the inventory (%s)", seed_id, err)
            coords[seed_id] = (np.nan, np.nan, np.nan)
    return coords


def station_pairs(
    stations: Sequence[str], acorr_only: bool, xcorr_only: bool
) -> list[tuple[int, int]]:
    """Index pairs ``(a, b)`` with ``a <= b`` over sorted stations, as selected by the flags."""
    n = len(stations)
    if acorr_only:
        return [(a, a) for a in range(n)]
    first = 1 if xcorr_only else 0
    return [(a, b) for a in range(n) for b in range(a + first, n)]


def _geometry(c1: np.ndarray, c2: np.ndarray) -> tuple[float, float, float]:
    if not (np.all(np.isfinite(c1[:2])) and np.all(np.isfinite(c2[:2]))):
        return np.nan, np.nan, np.nan
    dist_m, az, baz = gps2dist_azimuth(c1[0], c1[1], c2[0], c2[1])
    return dist_m / 1000.0, az, baz


def correlate_day(
    waveforms: DayWaveforms,
    params: CorrelationParams,
    coordinates: Mapping[str, Sequence[float]] | None = None,
    threads: int = 1,
    allocate: Callable[[tuple[int, ...]], ArrayTarget] | None = None,
) -> DayCorrelations:
    """Correlate all station pairs and component combinations of a preprocessed day.

    Parameters
    ----------
    waveforms : DayWaveforms
        Output of :func:`seismake.noise.preprocess.preprocess_day`.
    params : CorrelationParams
        Correlation parameters (``sampling_rate`` must match ``waveforms``).
    coordinates : mapping, optional
        SEED id -> (latitude deg, longitude deg, elevation m).
    threads : int
        Threads, as in :func:`correlate_windows`.
    allocate : callable, optional
        ``allocate(shape)`` returns the zero-initialized (n_pair, n_comp, n_sub, n_lag)
        float32 target of the correlations, written a block of pairs at a time:
        an HDF5 dataset (see :func:`seismake.noise.ccfstore.write_correlated_day`)
        keeps a large day out of memory. Default: a numpy array.

    Returns
    -------
    DayCorrelations
        Possibly empty (no pair), with the reason; ``data`` is the target.
    """
    allocate = allocate or _zeros
    day = waveforms.starttime
    report = {
        "gap_s": waveforms.gap_s,
        "dropped": waveforms.dropped,
        "nonfinite": waveforms.nonfinite,
    }
    if abs(waveforms.sampling_rate - params.sampling_rate) > 1e-9:
        raise ValueError(
            f"day {day.date}: waveforms at {waveforms.sampling_rate} Hz, "
            f"params.sampling_rate={params.sampling_rate} Hz"
        )
    if not waveforms.ids:
        reason = "no usable channel"
        if waveforms.dropped:
            reason += ": " + "; ".join(waveforms.dropped.values())
        logger.warning("day %s: %s", day.date, reason)
        return DayCorrelations.empty(day, params, reason, **report)
    coordinates = coordinates or {}
    by_station: dict[str, dict[str, int]] = {}
    channel_code: dict[str, dict[str, str]] = {}
    station_coords: dict[str, np.ndarray] = {}
    for index, seed_id in enumerate(waveforms.ids):
        net, sta, loc, cha = seed_id.split(".")
        key = f"{net}.{sta}.{loc}"
        by_station.setdefault(key, {})[cha[-1]] = index
        channel_code.setdefault(key, {})[cha[-1]] = cha
        station_coords.setdefault(
            key, np.asarray(coordinates.get(seed_id, (np.nan,) * 3), dtype=np.float64)
        )
    stations = sorted(by_station)
    pairs = station_pairs(stations, params.acorr_only, params.xcorr_only)
    comps = components(params.ncomp)
    combo_pair, combo_comp, left, right = [], [], [], []
    for p, (a, b) in enumerate(pairs):
        for c, (c1, c2) in enumerate(comps):
            i = by_station[stations[a]].get(c1)
            j = by_station[stations[b]].get(c2)
            if i is not None and j is not None:
                combo_pair.append(p)
                combo_comp.append(c)
                left.append(i)
                right.append(j)
    fs = params.sampling_rate
    n_len = round(params.cc_len * fs)
    n_step = round(params.step * fs)
    windows = cut_windows(waveforms.data, n_len, n_step)
    if not combo_pair:
        reason = f"no station pair among {len(stations)} station(s) for the pair selection"
        logger.warning("day %s: %s", day.date, reason)
        return DayCorrelations.empty(day, params, reason, **report)
    if windows.shape[1] == 0:
        reason = f"day of {waveforms.n_samples} samples is shorter than cc_len"
        return DayCorrelations.empty(day, params, reason, **report)
    good = window_mask(
        waveforms.data,
        n_len,
        n_step,
        params.max_over_std,
        waveforms.valid,
        params.max_window_gap_fraction,
    )
    logger.info(
        "day %s: %d channels, %d pairs, %d combinations, %d/%d good channel-windows",
        day.date,
        len(waveforms.ids),
        len(pairs),
        len(left),
        int(good.sum()),
        good.size,
    )
    n_pair, n_comp = len(pairs), len(comps)
    ngood_combo = window_counts(good, np.array(left), np.array(right), params)
    if not ngood_combo.any():
        reason = "no window passed the rejection on both channels of any pair"
        logger.warning("day %s: %s", day.date, reason)
        return DayCorrelations.empty(day, params, reason, **report)
    n_sub = ngood_combo.shape[1]
    ngood = np.zeros((n_pair, n_comp, n_sub), dtype=np.int32)
    ngood[combo_pair, combo_comp] = ngood_combo
    data = allocate((n_pair, n_comp, n_sub, lag_axis(params).size))
    # with every combination present, blocks of whole pairs are slabs of the day array
    dense = len(left) == n_pair * n_comp

    def store(lo: int, hi: int, block: np.ndarray) -> None:
        if dense:
            data[lo // n_comp : hi // n_comp] = block.reshape(-1, n_comp, *block.shape[1:])
            return
        for q in range(lo, hi):
            data[combo_pair[q], combo_comp[q]] = block[q - lo]

    # a block is written (h5py releases the GIL) while the next one is computed
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        for lo, hi, block in correlation_blocks(
            windows, good, left, right, params, threads, n_comp
        ):
            if pending is not None:
                pending.result()
            pending = writer.submit(store, lo, hi, block)
        if pending is not None:
            pending.result()
    channel1 = np.array(
        [[channel_code[stations[a]].get(c[0], "") for c in comps] for a, _ in pairs], dtype=str
    ).reshape(n_pair, n_comp)
    channel2 = np.array(
        [[channel_code[stations[b]].get(c[1], "") for c in comps] for _, b in pairs], dtype=str
    ).reshape(n_pair, n_comp)
    coords1 = np.array([station_coords[stations[a]] for a, _ in pairs]).reshape(n_pair, 3)
    coords2 = np.array([station_coords[stations[b]] for _, b in pairs]).reshape(n_pair, 3)
    geometry = np.array([_geometry(c1, c2) for c1, c2 in zip(coords1, coords2, strict=True)])
    window_start = float(day.timestamp) + np.arange(windows.shape[1]) * n_step / fs
    group = substack_group(params, windows.shape[1])
    return DayCorrelations(
        day=day.strftime("%Y-%m-%d"),
        station1=np.array([stations[a] for a, _ in pairs], dtype=str),
        station2=np.array([stations[b] for _, b in pairs], dtype=str),
        channel1=channel1,
        channel2=channel2,
        coords1=coords1,
        coords2=coords2,
        distance_km=geometry[:, 0],
        azimuth_deg=geometry[:, 1],
        backazimuth_deg=geometry[:, 2],
        components=comps,
        window_start=window_start,
        substack_start=window_start[::group][:n_sub],
        ngood=ngood,
        lags_s=lag_axis(params),
        data=data,
        params=params,
        gap_s=dict(waveforms.gap_s),
        nonfinite=dict(waveforms.nonfinite),
        dropped=dict(waveforms.dropped),
    )


def correlate_streams(
    stream: Stream,
    inventory: Inventory | None,
    params: CorrelationParams,
    day: UTCDateTime,
    threads: int = 1,
    allocate: Callable[[tuple[int, ...]], ArrayTarget] | None = None,
) -> DayCorrelations:
    """Preprocess and correlate one day of raw waveforms.

    Parameters
    ----------
    stream : obspy.Stream
        Raw traces of the day (any number of segments per channel).
    inventory : obspy.Inventory or None
        Station metadata: coordinates, and responses for ``rm_resp="inv"``.
    params : CorrelationParams
        Processing parameters.
    day : obspy.UTCDateTime
        Start of the day (midnight UTC).
    threads : int
        Channels preprocessed at once; then as in :func:`correlate_windows`.
    allocate : callable, optional
        Target of the correlations, as in :func:`correlate_day`.

    Returns
    -------
    DayCorrelations
        Correlations of the day; empty with a reason when nothing is usable.
    """
    day = UTCDateTime(day)
    waveforms = preprocess_day(stream, day, params, inventory, threads)
    coords = station_coordinates(inventory, waveforms.ids, day) if inventory is not None else {}
    return correlate_day(waveforms, params, coords, threads, allocate)
