"""summary.json: counts, areas, grade counts, park table, cleanup, targets, hashes, version.

Everything is plain JSON: NaN → null, numpy scalars → Python numbers, floats rounded to 6 decimals so
reruns give identical files. The run time honours ``SOURCE_DATE_EPOCH``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from typing import Any

import numpy as np
import pandas as pd

from parkland.frames import arrow_text


def run_timestamp() -> str:
    """ISO-8601 UTC time of the run: SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().lstrip("-").isdigit():
        t = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    else:
        t = dt.datetime.now(tz=dt.UTC)
    return t.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def jsonable(obj: Any) -> Any:
    """Recursively turn numpy/pandas values into JSON values (NaN/NA → None, floats to 6 decimals)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, pd.Series):
        return jsonable(obj.to_dict())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return None if not math.isfinite(f) else round(f, 6)
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, (pd.Timestamp, dt.date)):
        return obj.isoformat()[:10]
    return obj


def dumps(summary: dict) -> str:
    """The summary as pretty, stable JSON text (UTF-8, Chinese kept readable)."""
    return json.dumps(jsonable(summary), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def value_counts(s: pd.Series) -> dict[str, int]:
    """Counts of each value (missing values left out), keyed by the value's text, sorted (stable across
    runs). Text held in Arrow is counted there (``pyarrow.compute.value_counts``)."""
    arr = arrow_text(s)
    if arr is not None:
        import pyarrow.compute as pc

        counted = pc.value_counts(arr).to_pylist()
        return dict(sorted((c["values"], c["counts"]) for c in counted if c["values"] is not None))
    vc = s.dropna().astype(str).value_counts()
    return {k: int(vc[k]) for k in sorted(vc.index)}
