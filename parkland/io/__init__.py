"""Reading inputs: firm tables, parcel and other vector layers, firm–parcel link tables.

Only this package (and ``report``) touches files. Every reader returns a :class:`parkland.recon.Loaded`
(frame, reconciliation records, meta with path and sha256).
"""

from __future__ import annotations

from parkland.io.firms import read_firms
from parkland.io.layers import list_layers, read_layer
from parkland.io.links import read_links
from parkland.io.parcels import read_parcels
from parkland.io.tables import read_table

__all__ = ["list_layers", "read_firms", "read_layer", "read_links", "read_parcels", "read_table"]
