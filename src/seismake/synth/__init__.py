"""The physics of seismake's embedded demo archive.

A seeded physical model, synthesized day by day into miniSEED and StationXML in the SCEDC
layout, with a ``truth/`` folder that says what every branch of the workflow should find:

- network ``SY``: broadband stations ``S01``... (``BH?`` at 20 Hz; ``S06`` ``HH?`` at
  40 Hz) recording an ambient Rayleigh-wave field from a few hundred point sources
  (analytic far-field Green's function of a homogeneous medium, random phases), a little
  incoherent noise, and local earthquakes (Brune pulses, P and S);
- array ``AR01``... (``BHZ``, aperture ~2 km) recording transient plane waves of known
  backazimuth and apparent velocity plus incoherent noise, nothing else;
- defects on purpose: a gap, a missing station-day, a station at another sampling rate.

Public API
----------
``DemoSpec``
    Frozen dataclass of every knob, defaults giving the demo (3 days of 86400 s).
``demo_days(spec) -> list[UTCDateTime]``
    Midnight of each day.
``write_demo_archive(root, spec=DemoSpec(), days=None) -> dict``
    Write StationXML, ``truth/`` and the day files of ``days`` (0-based indices, default
    all); returns a summary (files, files written, stations, counts). Same spec, same
    bytes; a day's content does not depend on ``n_days`` or on the other days written.
``build_model(spec) -> DemoModel``
    The day-independent model: ``stations``, ``array`` (:class:`Site`), ``sources``
    (:class:`NoiseSources`), ``amplitude_scale``; ``earthquakes(day)`` and
    ``plane_waves(day)`` give the :class:`Earthquake` and :class:`PlaneWave` records.
``synthesize_day(model, day)``
    Iterate ``(site, channel, obspy.Stream of counts)`` for one day, defects included.
``demo_inventory(spec, sites) -> obspy.Inventory``
    StationXML of sites; ``channel_response(spec, fs)`` one channel's response and
    ``response_values(response, f_hz)`` its complex values (counts per m/s).
``geodesic_inverse(lat1, lon1, lat2, lon2) -> (dist_m, az_deg, baz_deg)``
    Vectorized WGS84 distance and azimuths (Vincenty, as ObsPy).
``greens_velocity(f_hz, dist_m, v_m_s, q, rho_kg_m3)``, ``source_spectrum(f_hz, ...)``
    The Green's function and source spectrum used for the ambient field.
``vertical_psd(spec, stations, sources, f_hz, amplitude_scale)``
    Model PSD of the vertical ambient ground velocity at each station.
"""

from seismake.geodesy import geodesic_inverse

from .ambient import vertical_psd
from .archive import write_demo_archive
from .day import synthesize_day
from .events import Earthquake
from .layout import NoiseSources, Site
from .model import DemoModel, build_model
from .planewaves import PlaneWave
from .response import channel_response, demo_inventory, response_values
from .spec import DemoSpec, demo_days
from .spectra import greens_velocity, source_spectrum

__all__ = [
    "DemoModel",
    "DemoSpec",
    "Earthquake",
    "NoiseSources",
    "PlaneWave",
    "Site",
    "build_model",
    "channel_response",
    "demo_days",
    "demo_inventory",
    "geodesic_inverse",
    "greens_velocity",
    "response_values",
    "source_spectrum",
    "synthesize_day",
    "vertical_psd",
    "write_demo_archive",
]
