"""Reconciliation records: every dropped, repaired or suspicious input row, with what was done.

Stages never print or drop silently: they return a frame of records built with :func:`record` /
:func:`records`, and the pipeline concatenates them into ``reconciliation.csv``.
Each record carries the problem in Chinese and English; the writer picks one by ``--lang``.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

#: Columns of a reconciliation frame, in output order (``problem`` is rendered from problem_zh/en).
COLUMNS = [
    "source",  # parcels / firms / links / buildings / parks / previous_firms / ...
    "source_row",  # 1-based record position in its input (Int64; missing for file-level notes)
    "file_row",  # the row a person sees in the file (Excel row, CSV line), Int64
    "key",  # the record's id as written: parcel_id, or the firm's credit code
    "column",  # the input column concerned, as headed in the file ("" when none)
    "problem_code",  # machine-readable, e.g. BAD_USCC_CHECK_DIGIT
    "problem_zh",
    "problem_en",
    "action",  # dropped / repaired / kept
]
ACTIONS = ("dropped", "repaired", "kept")


def empty() -> pd.DataFrame:
    """An empty reconciliation frame with the right columns and dtypes."""
    return _typed(pd.DataFrame({c: [] for c in COLUMNS}))


def record(
    source: str,
    code: str,
    zh: str,
    en: str,
    action: str,
    *,
    source_row: int | None = None,
    file_row: int | None = None,
    key: str | None = None,
    column: str | None = None,
) -> pd.DataFrame:
    """One record as a one-row frame."""
    return records(source, code, zh, en, action, source_row=[source_row], file_row=[file_row],
                   key=[key], column=column)


def records(
    source: str,
    code: str,
    zh: str | Iterable[str],
    en: str | Iterable[str],
    action: str,
    *,
    source_row: Iterable | None = None,
    file_row: Iterable | None = None,
    key: Iterable | None = None,
    column: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Many records of one kind at once (vectorised): list-likes must have equal length.

    Scalars are broadcast. Returns an empty frame when the list-likes are empty.
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
    cols = {"source_row": source_row, "file_row": file_row, "key": key}
    n = None
    for v in [*cols.values(), zh, en, column]:
        if v is not None and not isinstance(v, str):
            v = list(v)
            n = len(v) if n is None else n
    if n is None:
        n = 1
    data: dict[str, object] = {}
    for name, v in {**cols, "problem_zh": zh, "problem_en": en, "column": column}.items():
        if v is None:
            data[name] = [None] * n
        elif isinstance(v, str):
            data[name] = [v] * n
        else:
            data[name] = list(v)
    data["source"] = [source] * n
    data["problem_code"] = [code] * n
    data["action"] = [action] * n
    return _typed(pd.DataFrame(data)[COLUMNS])


def concat(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate reconciliation frames (skipping empty ones), keeping order."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return empty()
    return _typed(pd.concat(frames, ignore_index=True)[COLUMNS])


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in ("source_row", "file_row"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
    for c in ("source", "key", "column", "problem_code", "problem_zh", "problem_en", "action"):
        s = df[c].astype("object")
        present = s.notna()
        if pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):  # numbers etc.: their text
            s = s.map(str, na_action="ignore")
        df[c] = s.where(present, "").astype(object)  # missing → ""
    return df


def render(df: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The reconciliation.csv table: ``problem`` in the chosen language."""
    out = df.copy()
    out["problem"] = out["problem_en"] if lang == "en" else out["problem_zh"]
    return out[["source", "source_row", "file_row", "key", "column", "problem_code", "problem", "action"]]


class Loaded:
    """What a reader or stage returns: the frame, its reconciliation records, and metadata.

    ``meta`` holds facts worth reporting (path, sha256, encoding, header row, column mapping, CRS...).
    """

    __slots__ = ("frame", "meta", "recon")

    def __init__(self, frame, recon: pd.DataFrame | None = None, meta: dict | None = None) -> None:
        self.frame = frame
        self.recon = recon if recon is not None else empty()
        self.meta = meta or {}

    def __repr__(self) -> str:
        return f"Loaded({len(self.frame)} rows, {len(self.recon)} reconciliation records)"
