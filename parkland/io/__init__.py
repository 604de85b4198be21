"""Reading inputs: firm tables, parcel and other vector layers, firm–parcel link tables.

Only this package (and ``report``) touches files. Every reader returns a :class:`parkland.recon.Loaded`
(frame, reconciliation records, meta with path and sha256).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

#: the readers and their modules, imported on first use (PEP 562): reading a firm table does not load
#: the vector stack (geopandas, GDAL)
_EXPORTS = {"read_firms": "firms", "list_layers": "layers", "read_layer": "layers", "read_links": "links",
            "read_parcels": "parcels", "read_table": "tables"}

if TYPE_CHECKING:
    from parkland.io.firms import read_firms
    from parkland.io.layers import list_layers, read_layer
    from parkland.io.links import read_links
    from parkland.io.parcels import read_parcels
    from parkland.io.tables import read_table


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'parkland.io' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"parkland.io.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["list_layers", "read_firms", "read_layer", "read_links", "read_parcels", "read_table"]
