"""Small vectorised helpers on frames shared by several stages."""

from __future__ import annotations

import numpy as np
import pandas as pd


def join_groups(keys: np.ndarray, values: np.ndarray, n: int, sep: str = ";", *, distinct: bool = True) -> np.ndarray:
    """For group keys 0..n-1, the non-empty values of each group joined by ``sep`` in the order given
    ("" for an empty group); ``distinct`` drops repeats within a group.

    Vectorised: one pass per position within a group (a handful), never one per group.
    """
    out = np.full(n, "", dtype=object)
    if len(keys) == 0:
        return out
    d = pd.DataFrame({"k": np.asarray(keys), "v": np.asarray(values, dtype=object)}).dropna()
    d = d[d["v"] != ""]
    if distinct:
        d = d.drop_duplicates()
    pos = d.groupby("k", sort=False).cumcount().to_numpy()
    k = d["k"].to_numpy(int)
    v = d["v"].astype(str).to_numpy(dtype=object)
    for level in range(int(pos.max()) + 1 if len(pos) else 0):
        sel = pos == level
        out[k[sel]] = v[sel] if level == 0 else out[k[sel]] + sep + v[sel]
    return out
