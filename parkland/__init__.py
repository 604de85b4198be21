"""parkland: 亩均论英雄 — grade industrial land per mu, flag idle and low-efficiency parcels.

``import parkland as pk; a = pk.assess(parcels, firms, ...)``; every stage is also a pure function on
frames: ``pk.read_firms``, ``pk.read_parcels``, ``pk.prepare_parcels``, ``pk.link_firms``,
``pk.firm_indicators``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import InputError, ParklandError, PolicyError
from .geo.parcels import prepare_parcels
from .indicators import firm_indicators, group_indicators, parcel_figures
from .io.firms import read_firms
from .io.links import read_links
from .io.parcels import read_parcels
from .link import link_firms
from .pipeline import Assessment, assess

__all__ = [
    "Assessment",
    "InputError",
    "ParklandError",
    "PolicyError",
    "__version__",
    "assess",
    "firm_indicators",
    "group_indicators",
    "link_firms",
    "parcel_figures",
    "prepare_parcels",
    "read_firms",
    "read_links",
    "read_parcels",
]
