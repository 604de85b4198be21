"""parkland: 亩均论英雄 — grade industrial land per mu, flag idle and low-efficiency parcels.

``import parkland as pk; a = pk.assess(parcels, firms, ...)``; every stage is also a pure function on
frames: ``pk.read_firms``, ``pk.read_parcels``, ``pk.prepare_parcels``, ``pk.link_firms``,
``pk.firm_indicators``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

#: the public names and the modules that define them, imported on first use (PEP 562): ``import
#: parkland.cli`` or ``parkland.io.firms`` does not load geopandas, GDAL and pyproj, so the command can
#: start reading the firm table in a second process while this one imports them
_EXPORTS = {
    "Assessment": ".pipeline", "assess": ".pipeline",
    "InputError": ".errors", "ParklandError": ".errors", "PolicyError": ".errors",
    "firm_indicators": ".indicators", "group_indicators": ".indicators", "parcel_figures": ".indicators",
    "link_firms": ".link", "prepare_parcels": ".geo.parcels", "read_firms": ".io.firms",
    "read_links": ".io.links", "read_parcels": ".io.parcels",
}

if TYPE_CHECKING:
    from .errors import InputError, ParklandError, PolicyError
    from .geo.parcels import prepare_parcels
    from .indicators import firm_indicators, group_indicators, parcel_figures
    from .io.firms import read_firms
    from .io.links import read_links
    from .io.parcels import read_parcels
    from .link import link_firms
    from .pipeline import Assessment, assess


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'parkland' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


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
