"""Per-channel preprocessing of one day of continuous waveforms.

Each channel of a day goes through, in this order:

1. non-finite and masked samples (NaN, Inf) set to zero, counted and treated as gaps;
2. per trace segment: demean, linear detrend, Hann taper (5 % per side, at most 20 s);
3. merge onto the sample grid of the earliest segment, gaps filled with zeros and
   recorded in a validity mask;
4. anti-aliased rational resampling to ``sampling_rate`` (polyphase FIR, zero phase);
5. trim / zero-pad to the day (whole samples);
6. one filter in the frequency domain (:func:`day_filter`), the steps of NoisePy's
   ``preprocess_raw``: the zero-phase 4-corner Butterworth bandpass between the outer
   corners of ``pre_filt``, then for ``rm_resp="inv"`` ObsPy's ``remove_response``
   (velocity, ``pre_filt`` cosine taper, 60 dB water level), and the sub-sample shift
   that puts samples on ``day + n / sampling_rate``.

``pre_filt`` is NoisePy's ``[0.9 freqmin, freqmin, freqmax, 1.1 freqmax]`` (``[..., 0.4 fs,
0.45 fs]`` when ``1.1 freqmax`` exceeds ``0.45 fs``). Channels missing more than
``max_gap_fraction`` of the day are dropped and reported.

Deliberate differences from NoisePy: it resamples by interpolation after filtering,
seismake with a proper anti-alias filter (also right for rates that are not integer
multiples, e.g. 40 Hz -> 20 Hz or 100 Hz -> 40 Hz); NoisePy and ObsPy taper 5 % of the
day (4320 s) at each end, seismake at most 20 s; ObsPy pads the day to twice its length
for the deconvolution, seismake by ``PAD_PERIODS`` periods of the lowest corner.
"""

from __future__ import annotations

import functools
import logging
import pickle
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import scipy.fft
import scipy.signal
from obspy import Inventory, Stream, Trace, UTCDateTime

from seismake.filters import zero_phase_power
from seismake.noise.params import CorrelationParams

logger = logging.getLogger(__name__)

DAY_S = 86400.0
WATER_LEVEL_DB = 60.0
TAPER_FRACTION = 0.05
TAPER_MAX_S = 20.0
MERGE_MARGIN_S = 60.0
#: zero padding of the day before the frequency-domain filter, in periods of pre_filt[0]
PAD_PERIODS = 10.0
#: frequencies at which the response is evaluated to find its maximum (water level)
RESPONSE_MAX_GRID = 4096


class ChannelError(ValueError):
    """A channel of a day cannot be used; the message names the channel and why."""


@dataclass
class DayWaveforms:
    """Preprocessed channels of one day on a common sample grid.

    Attributes
    ----------
    ids : list of str
        SEED ids ``NET.STA.LOC.CHA`` of the kept channels, sorted.
    data : numpy.ndarray
        (n_chan, n_samples) float32, ground velocity in m/s for ``rm_resp="inv"``,
        counts otherwise. Sample ``n`` is at ``starttime + n / sampling_rate``.
    valid : numpy.ndarray
        (n_chan, n_samples) bool, False where the archive had no (finite) data.
    sampling_rate : float
        Hz.
    starttime : obspy.UTCDateTime
        Start of the day.
    gap_s : dict
        Seconds of the day missing, per channel (kept and dropped).
    nonfinite : dict
        Number of NaN/Inf samples replaced, per channel that had any.
    dropped : dict
        Reason, per dropped channel.
    """

    ids: list[str]
    data: np.ndarray
    valid: np.ndarray
    sampling_rate: float
    starttime: UTCDateTime
    gap_s: dict[str, float] = field(default_factory=dict)
    nonfinite: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        """Samples per channel."""
        return int(self.data.shape[1])


def taper_window(n: int, sampling_rate: float) -> np.ndarray:
    """Hann taper of ``min(5 %, 20 s)`` per side.

    Parameters
    ----------
    n : int
        Number of samples.
    sampling_rate : float
        Hz.

    Returns
    -------
    numpy.ndarray
        (n,) float64 weights in [0, 1].
    """
    n_side = int(min(TAPER_FRACTION * n, TAPER_MAX_S * sampling_rate))
    window = np.ones(n)
    if n_side > 0:
        ramp = np.hanning(2 * n_side + 1)[:n_side]
        window[:n_side] = ramp
        window[n - n_side :] = ramp[::-1]
    return window


def _detrend_taper(x: np.ndarray, sampling_rate: float) -> np.ndarray:
    """Demean, linear detrend and taper one segment (float64)."""
    n = x.size
    if n < 2:
        return np.zeros_like(x)
    t = np.arange(n) - (n - 1) / 2.0
    slope = np.dot(t, x - x.mean()) / np.dot(t, t)
    return (x - x.mean() - slope * t) * taper_window(n, sampling_rate)


def _merge(
    traces: list[Trace], seed_id: str, lo: UTCDateTime, hi: UTCDateTime
) -> tuple[np.ndarray, np.ndarray, UTCDateTime, float, int]:
    """Merge segments onto the grid of the earliest one; returns data, valid, t0, fs, n_bad."""
    rates = [float(tr.stats.sampling_rate) for tr in traces]
    fs = rates[0]
    if max(rates) - min(rates) > 1e-6 * fs:
        raise ChannelError(f"{seed_id}: segments have different sampling rates {sorted(rates)}")
    if fs <= 0:
        raise ChannelError(f"{seed_id}: sampling rate {fs} Hz is not positive")
    segments = []
    n_bad = 0
    for tr in traces:
        start = max(tr.stats.starttime, lo)
        i0 = int(np.ceil((start - tr.stats.starttime) * fs - 1e-6))
        i1 = min(tr.stats.npts, int(np.floor((hi - tr.stats.starttime) * fs + 1e-6)) + 1)
        if i1 - i0 < 2:
            continue
        chunk = tr.data[i0:i1]
        if np.ma.isMaskedArray(chunk):
            chunk = chunk.astype(np.float64).filled(np.nan)
        x = np.asarray(chunk, dtype=np.float64)
        finite = np.isfinite(x)
        n_bad += int(x.size - finite.sum())
        x = np.where(finite, x, 0.0)
        if finite.any():
            x[finite] = _detrend_taper(x[finite], fs)
        segments.append((tr.stats.starttime + i0 / fs, x, finite))
    if not segments:
        raise ChannelError(f"{seed_id}: no samples within the day")
    t0 = min(seg[0] for seg in segments)
    t_end = max(seg[0] + (seg[1].size - 1) / fs for seg in segments)
    n = round((t_end - t0) * fs) + 1
    data = np.zeros(n)
    valid = np.zeros(n, dtype=bool)
    for start, x, finite in segments:
        k = round((start - t0) * fs)
        free = ~valid[k : k + x.size]
        data[k : k + x.size][free] = x[: free.size][free]
        valid[k : k + x.size] |= finite[: free.size] & free
    return data, valid, t0, fs, n_bad


def _resample(x: np.ndarray, fs_in: float, fs_out: float, seed_id: str) -> np.ndarray:
    """Anti-aliased rational resampling (zero phase)."""
    ratio = Fraction(fs_out / fs_in).limit_denominator(1000)
    if abs(float(ratio) - fs_out / fs_in) > 1e-9 * fs_out / fs_in:
        raise ChannelError(
            f"{seed_id}: cannot resample {fs_in} Hz to {fs_out} Hz with a rational ratio"
        )
    return scipy.signal.resample_poly(x, ratio.numerator, ratio.denominator)


def pre_filt(params: CorrelationParams) -> tuple[float, float, float, float]:
    """NoisePy's pre-filter corners in Hz for ``freqmin``, ``freqmax`` and ``sampling_rate``."""
    fs = params.sampling_rate
    if 1.1 * params.freqmax > 0.45 * fs:
        return 0.9 * params.freqmin, params.freqmin, 0.4 * fs, 0.45 * fs
    return 0.9 * params.freqmin, params.freqmin, params.freqmax, 1.1 * params.freqmax


def _cosine_taper(freqs: np.ndarray, corners: tuple[float, float, float, float]) -> np.ndarray:
    """SAC's frequency-domain cosine taper (ObsPy's ``cosine_sac_taper``); (n_freq,)."""
    f1, f2, f3, f4 = corners
    taper = np.zeros_like(freqs)
    rise = (f1 <= freqs) & (freqs <= f2)
    taper[rise] = 0.5 * (1.0 - np.cos(np.pi * (freqs[rise] - f1) / (f2 - f1)))
    taper[(f2 < freqs) & (freqs < f3)] = 1.0
    fall = (f3 <= freqs) & (freqs <= f4)
    taper[fall] = 0.5 * (1.0 + np.cos(np.pi * (freqs[fall] - f3) / (f4 - f3)))
    return taper


def _inverse_response(
    seed_id: str, day: UTCDateTime, bins: slice, n_fft: int, fs: float, inventory: Inventory
) -> np.ndarray:
    """``1 / R(f)`` to velocity on rfft ``bins`` of ``n_fft`` points at ``fs`` Hz, with
    ObsPy's water level (60 dB below the largest ``|R|`` up to Nyquist).

    Channels with the same response (the same StationXML stages) share one evaluation.
    """
    try:
        response = inventory.get_response(seed_id, day)
    except Exception as err:
        raise ChannelError(f"{seed_id}: response removal failed: {err}") from err
    try:
        return _evaluate_inverse(pickle.dumps(response), bins.start, bins.stop, n_fft, fs)
    except Exception as err:
        raise ChannelError(f"{seed_id}: response removal failed: {err}") from err


@functools.lru_cache(maxsize=16)
def _evaluate_inverse(
    response_pickle: bytes, k0: int, k1: int, n_fft: int, fs: float
) -> np.ndarray:
    """:func:`_inverse_response` of a pickled response on the rfft bins ``k0:k1``."""
    response = pickle.loads(response_pickle)
    freqs = np.arange(k0, k1) * (fs / n_fft)
    band = response.get_evalresp_response_for_frequencies(freqs, output="VEL")
    grid = np.linspace(0.0, fs / 2, RESPONSE_MAX_GRID)
    peak = np.abs(response.get_evalresp_response_for_frequencies(grid, output="VEL")).max()
    peak = max(peak, float(np.abs(band).max(initial=0.0)))
    level = peak * 10.0 ** (-WATER_LEVEL_DB / 20.0)
    amplitude = np.abs(band)
    low = (amplitude < level) & (amplitude > 0)
    band[low] *= level / amplitude[low]
    inverse = np.zeros_like(band)
    nonzero = band != 0
    inverse[nonzero] = 1.0 / band[nonzero]
    inverse.flags.writeable = False
    return inverse


@functools.lru_cache(maxsize=8)
def _bandpass_power(n_fft: int, fs: float, corners: tuple[float, ...]) -> np.ndarray:
    """|B(f)|^2 of the 4-corner Butterworth bandpass ``corners[0]``-``corners[3]`` on the
    ``n_fft // 2 + 1`` rfft bins (highpass when ``corners[3]`` reaches Nyquist); read-only."""
    freqs = np.arange(n_fft // 2 + 1) * (fs / n_fft)
    power = zero_phase_power(freqs, corners[0], corners[3], fs)
    power.flags.writeable = False
    return power


def day_filter(
    n_fft: int,
    params: CorrelationParams,
    seed_id: str = "",
    day: UTCDateTime | None = None,
    inventory: Inventory | None = None,
) -> np.ndarray:
    """Frequency response of the day's filter (bandpass, pre-filter, inverse response).

    Parameters
    ----------
    n_fft : int
        FFT length; the response is given on its ``n_fft // 2 + 1`` rfft bins.
    params : CorrelationParams
        Uses sampling_rate, freqmin, freqmax, rm_resp.
    seed_id : str
        Channel whose response is removed (``rm_resp="inv"``).
    day : obspy.UTCDateTime, optional
        Time at which the response is taken.
    inventory : obspy.Inventory, optional
        Required for ``rm_resp="inv"``.

    Returns
    -------
    numpy.ndarray
        (n_fft // 2 + 1,) complex128: ``|B(f)|^2`` of the zero-phase Butterworth bandpass
        ``pre_filt[0]``-``pre_filt[3]``, times for ``rm_resp="inv"`` the ``pre_filt``
        cosine taper and ``1 / R(f)`` (counts to m/s).

    Raises
    ------
    ChannelError
        When the response cannot be evaluated (message names the channel).
    """
    fs = params.sampling_rate
    corners = pre_filt(params)
    weights = _bandpass_power(n_fft, fs, corners).astype(np.complex128)
    if params.rm_resp == "inv":
        if inventory is None:
            raise ChannelError(f"{seed_id}: rm_resp='inv' needs an inventory")
        weights *= _cosine_taper(np.arange(weights.size) * (fs / n_fft), corners)
        nonzero = np.flatnonzero(weights)  # one run of bins: pre_filt[0] < f < pre_filt[3]
        bins = slice(int(nonzero[0]), int(nonzero[-1]) + 1)
        weights[bins] *= _inverse_response(seed_id, day, bins, n_fft, fs, inventory)
    return weights


def _filter_day(
    x: np.ndarray,
    delay: float,
    seed_id: str,
    day: UTCDateTime,
    params: CorrelationParams,
    inventory: Inventory | None,
) -> np.ndarray:
    """Apply :func:`day_filter` and a delay of ``delay`` samples to one day (zero padded)."""
    fs = params.sampling_rate
    n = x.size
    pad = min(n, int(np.ceil(PAD_PERIODS / pre_filt(params)[0] * fs)))
    n_fft = scipy.fft.next_fast_len(n + pad, real=True)
    weights = day_filter(n_fft, params, seed_id, day, inventory)
    used = np.flatnonzero(weights)
    if used.size == 0:
        return np.zeros(n)
    k0, k1 = int(used[0]), int(used[-1]) + 1
    # single precision: rounding stays ~1e-7 of the day's largest amplitude
    spec = scipy.fft.rfft(x.astype(np.float32), n_fft)[:k1]
    spec[:k0] = 0
    factor = weights[k0:k1]
    if delay:
        factor = factor * np.exp(-2j * np.pi * np.arange(k0, k1) * (delay / n_fft))
    spec[k0:] *= factor.astype(np.complex64)
    return scipy.fft.irfft(spec, n_fft)[:n]


def preprocess_channel(
    traces: Iterable[Trace],
    day: UTCDateTime,
    params: CorrelationParams,
    inventory: Inventory | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Preprocess the segments of one channel into one day on the processing grid.

    Parameters
    ----------
    traces : iterable of obspy.Trace
        Segments of one channel (same SEED id), in any order.
    day : obspy.UTCDateTime
        Start of the day.
    params : CorrelationParams
        Uses sampling_rate, freqmin, freqmax, rm_resp.
    inventory : obspy.Inventory, optional
        Required for ``rm_resp="inv"``.

    Returns
    -------
    data : numpy.ndarray
        (86400 * sampling_rate,) float32.
    valid : numpy.ndarray
        (86400 * sampling_rate,) bool, False in gaps and at non-finite samples.
    n_nonfinite : int
        Number of NaN/Inf samples replaced.

    Raises
    ------
    ChannelError
        When the channel cannot be processed (message names the SEED id).
    """
    traces = list(traces)
    if not traces:
        raise ChannelError("preprocess_channel: no traces given")
    seed_id = traces[0].id
    fs_out = float(params.sampling_rate)
    n_day = round(DAY_S * fs_out)
    data, valid, t0, fs_in, n_bad = _merge(
        traces, seed_id, day - MERGE_MARGIN_S, day + DAY_S + MERGE_MARGIN_S
    )
    if fs_in / 2 < params.freqmax:
        logger.warning("%s: %.3f Hz data have no energy up to freqmax", seed_id, fs_in)
    if abs(fs_in - fs_out) > 1e-9 * fs_out:
        data = _resample(data, fs_in, fs_out, seed_id)
        native_index = np.round(np.arange(data.size) * fs_in / fs_out).astype(np.int64)
        valid = valid[np.clip(native_index, 0, valid.size - 1)]
    offset = (t0 - day) * fs_out
    shift = int(np.floor(offset))
    frac = offset - shift
    out = np.zeros(n_day)
    out_valid = np.zeros(n_day, dtype=bool)
    lo, hi = max(0, shift), min(n_day, shift + data.size)
    if hi > lo:
        out[lo:hi] = data[lo - shift : hi - shift]
        out_valid[lo:hi] = valid[lo - shift : hi - shift]
    if not out_valid.any():
        detail = f" ({n_bad} NaN/Inf samples)" if n_bad else ""
        raise ChannelError(f"{seed_id}: no valid samples within the day{detail}")
    out = _filter_day(out, frac if frac > 1e-3 else 0.0, seed_id, day, params, inventory)
    return out.astype(np.float32), out_valid, n_bad


def select_channels(stream: Stream, ncomp: int) -> tuple[dict[str, list[Trace]], dict[str, str]]:
    """Group traces by SEED id and keep one channel per station and component.

    Parameters
    ----------
    stream : obspy.Stream
        Traces of one day.
    ncomp : int
        1 keeps Z channels, 3 keeps Z, N and E channels.

    Returns
    -------
    selected : dict
        SEED id -> list of traces.
    dropped : dict
        SEED id -> reason, for channels not used.
    """
    components = "Z" if ncomp == 1 else "ZNE"
    groups: dict[str, list[Trace]] = defaultdict(list)
    for tr in stream:
        groups[tr.id].append(tr)
    dropped: dict[str, str] = {}
    best: dict[tuple[str, str], str] = {}
    for seed_id in sorted(groups):
        net, sta, loc, cha = seed_id.split(".")
        comp = cha[-1:]
        if comp not in components:
            dropped[seed_id] = f"component {comp!r} not used with ncomp={ncomp}"
            continue
        key = (f"{net}.{sta}.{loc}", comp)
        rate = max(tr.stats.sampling_rate for tr in groups[seed_id])
        current = best.get(key)
        if current is None:
            best[key] = seed_id
            continue
        current_rate = max(tr.stats.sampling_rate for tr in groups[current])
        loser = seed_id if rate <= current_rate else current
        best[key] = current if loser == seed_id else seed_id
        dropped[loser] = f"another channel of {key[0]} component {comp} is used"
    selected = {seed_id: groups[seed_id] for seed_id in sorted(best.values())}
    return selected, dropped


def preprocess_day(
    stream: Stream,
    day: UTCDateTime,
    params: CorrelationParams,
    inventory: Inventory | None = None,
    threads: int = 1,
) -> DayWaveforms:
    """Preprocess all channels of one day; unusable channels are dropped and reported.

    Parameters
    ----------
    stream : obspy.Stream
        Raw traces of the day (several segments per channel allowed).
    day : obspy.UTCDateTime
        Start of the day (midnight UTC).
    params : CorrelationParams
        Processing parameters.
    inventory : obspy.Inventory, optional
        Station metadata, required for ``rm_resp="inv"``.
    threads : int
        Channels processed at once.

    Returns
    -------
    DayWaveforms
        Kept channels (possibly none) with gap, non-finite and drop reports.
    """
    fs = float(params.sampling_rate)
    n_day = round(DAY_S * fs)
    selected, dropped = select_channels(stream, params.ncomp)
    ids: list[str] = []
    rows: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    gap_s: dict[str, float] = {}
    nonfinite: dict[str, int] = {}

    def run(traces: list[Trace]) -> tuple[np.ndarray, np.ndarray, int] | ChannelError:
        try:
            return preprocess_channel(traces, day, params, inventory)
        except ChannelError as err:
            return err

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        results = pool.map(run, selected.values())
        for seed_id, result in zip(selected, results, strict=True):
            if isinstance(result, ChannelError):
                logger.warning("dropping %s", result)
                dropped[seed_id] = str(result)
                gap_s[seed_id] = DAY_S
                continue
            data, valid, n_bad = result
            if n_bad:
                nonfinite[seed_id] = n_bad
                logger.warning("%s: %d non-finite samples treated as gaps", seed_id, n_bad)
            missing = float((n_day - int(valid.sum())) / fs)
            gap_s[seed_id] = missing
            if missing > params.max_gap_fraction * DAY_S:
                reason = (
                    f"{seed_id}: {missing:.1f} s missing exceeds "
                    f"max_gap_fraction={params.max_gap_fraction} of the day"
                )
                logger.warning("dropping %s", reason)
                dropped[seed_id] = reason
                continue
            ids.append(seed_id)
            rows.append(data)
            masks.append(valid)
    data = np.stack(rows) if rows else np.zeros((0, n_day), dtype=np.float32)
    valid = np.stack(masks) if masks else np.zeros((0, n_day), dtype=bool)
    return DayWaveforms(
        ids=ids,
        data=data,
        valid=valid,
        sampling_rate=fs,
        starttime=UTCDateTime(day),
        gap_s=gap_s,
        nonfinite=nonfinite,
        dropped=dropped,
    )
