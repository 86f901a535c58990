"""One day of the demo as ObsPy streams of counts, one per channel.

For every channel the continuous-time ground-velocity spectrum on ``f_k = k / L`` (ambient
field + incoherent noise + earthquakes at a station; plane waves + noise at an array
element) is multiplied by ``fs`` (to a DFT spectrum) and by the complex response of the
channel, then inverse-transformed with the channel's own length ``N = L fs`` and rounded
to int32 counts. The defects of the spec are applied here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
from obspy import Stream, Trace, UTCDateTime

from .ambient import ambient_spectra
from .events import earthquake_spectra
from .layout import Site
from .model import DemoModel, gap_samples
from .planewaves import array_noise_spectrum, plane_wave_delays_s, plane_wave_spectra
from .response import channel_response, response_values
from .spec import RandomStream, rng
from .spectra import band_noise_spectrum

log = logging.getLogger(__name__)

_INT32_MAX = 2**31 - 1


def _to_counts(site: Site, channel: str, spectrum: np.ndarray, response: np.ndarray,
               n: int) -> np.ndarray:
    data = np.rint(np.fft.irfft(spectrum * site.sampling_rate_hz * response, n))
    peak = np.abs(data).max()
    if peak > _INT32_MAX:
        raise ValueError(f"{site.code}..{channel}: {peak:.3g} counts overflow int32")
    return data.astype(np.int32)


def _traces(site: Site, channel: str, data: np.ndarray, day_start: UTCDateTime,
            gap: tuple[int, int] | None) -> Stream:
    header = {"network": site.network, "station": site.station, "location": site.location,
              "channel": channel, "sampling_rate": site.sampling_rate_hz,
              "starttime": day_start}
    if gap is None:
        return Stream([Trace(data, header=header)])
    i0, i1 = gap
    second = dict(header, starttime=day_start + i1 / site.sampling_rate_hz)
    return Stream([Trace(data[:i0].copy(), header=header), Trace(data[i1:].copy(), header=second)])


def synthesize_day(model: DemoModel, day: int) -> Iterator[tuple[Site, str, Stream]]:
    """Counts of every channel recorded on one day, defects included.

    Parameters
    ----------
    model
        The demo model.
    day
        Day index (0-based).

    Yields
    ------
    site : Site
        The station or array element.
    channel : str
        Channel code.
    stream : obspy.Stream
        int32 counts from midnight for ``spec.day_length_s`` seconds: one trace, or two
        around the gap defect. Stations missing on this day yield nothing.
    """
    spec = model.spec
    length = spec.day_length_s
    day_start = spec.start_time + 86400 * day
    responses: dict[float, np.ndarray] = {}

    def response_for(site: Site, n_bins: int) -> np.ndarray:
        fs = site.sampling_rate_hz
        if fs not in responses:
            responses[fs] = response_values(channel_response(spec, fs),
                                            np.arange(n_bins) / length)
        return responses[fs]

    k_lo, ambient = ambient_spectra(spec, model.stations, model.sources, model.amplitude_scale,
                                    day)
    k_hi = k_lo + ambient.shape[-1] - 1
    incoherent_rms = spec.incoherent_rel_rms * spec.noise_rms_m_s
    events = model.earthquakes(day)
    for m, site in enumerate(model.stations):
        if site.station == spec.missing_station and day == spec.missing_day:
            log.info("day %d: %s left out (missing-day defect)", day, site.code)
            continue
        n = round(length * site.sampling_rate_hz)
        f = np.arange(n // 2 + 1) / length
        spectra = earthquake_spectra(spec, site, events, day_start, f)
        spectra[:, k_lo:k_hi + 1] += ambient[m]
        for c in range(3):
            gen = rng(spec, RandomStream.INCOHERENT_NOISE, day, m, c)
            i0, noise = band_noise_spectrum(spec.incoherent_window_hz, incoherent_rms, length, gen)
            spectra[c, i0:i0 + noise.size] += noise
        response = response_for(site, f.size)
        for c, channel in enumerate(site.channels):
            gap = None
            if site.station == spec.gap_station and day == spec.gap_day and c == 0:
                gap = gap_samples(spec, site.sampling_rate_hz)
            data = _to_counts(site, channel, spectra[c], response, n)
            yield site, channel, _traces(site, channel, data, day_start, gap)

    waves = model.plane_waves(day)
    centre = plane_wave_spectra(spec, waves, day, day_start)
    delays = plane_wave_delays_s(waves, model.array)
    n = round(length * spec.array_sampling_rate_hz)
    f = np.arange(n // 2 + 1) / length
    w = 2.0 * np.pi * f
    for e, site in enumerate(model.array):
        spectrum = array_noise_spectrum(spec, day, e, f.size)
        for j in range(len(waves)):
            spectrum += centre[j] * np.exp(-1j * w * delays[j, e])
        data = _to_counts(site, site.channels[0], spectrum, response_for(site, f.size), n)
        yield site, site.channels[0], _traces(site, site.channels[0], data, day_start, None)
    log.info("day %d (%s): %d events, %d plane waves", day, day_start.date, len(events),
             len(waves))

