"""统一社会信用代码 (unified social credit code, GB 32100-2015): normalising and the check digit.

The 18th character is the check digit: with the 31-character alphabet ``0-9 A-H J-N P-R T U W-Y``
(no I, O, Z, S, V) and weights w_i = 3^(i-1) mod 31 for positions i = 1..17,
c18 = alphabet[(31 − Σ value(c_i) × w_i mod 31) mod 31].
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
#: byte → alphabet value, −1 for every other byte (non-ASCII bytes included)
_LUT = np.full(256, -1, dtype=np.int64)
_LUT[[ord(c) for c in ALPHABET]] = np.arange(len(ALPHABET))


def check_digit(first17: str) -> str:
    """The check character for the first 17 characters of a credit code (ValueError if not valid chars)."""
    if len(first17) != 17:
        raise ValueError("need exactly 17 characters")
    total = sum(_VALUE[c] * int(w) for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """True when ``code`` is 18 characters of the alphabet and its check digit is right."""
    if not isinstance(code, str) or len(code) != 18 or any(c not in _VALUE for c in code):
        return False
    return check_digit(code[:17]) == code[17]


def valid_mask(codes: pd.Series) -> pd.Series:
    """Vectorised :func:`is_valid` over a Series of normalised codes (missing → False).

    Works on the UTF-8 bytes: a valid code is 18 ASCII characters, so only cells of exactly 18 bytes can
    be valid; their bytes become one (n × 18) matrix, values via a lookup table (−1 outside the alphabet,
    also for every non-ASCII byte), the weighted sum with one matrix product. Cells that are not ``str``
    are tested as ``str(cell)``.
    """
    obj = codes.to_numpy(dtype=object)
    present = codes.notna().to_numpy()
    if not present.all() or pd.api.types.infer_dtype(obj, skipna=False) != "string":
        obj = np.where(present, obj, "")
        if pd.api.types.infer_dtype(obj, skipna=False) != "string":
            obj = pd.Series(obj, dtype=object).map(str).to_numpy(dtype=object)
    out = np.zeros(len(obj), dtype=bool)
    if not len(obj):
        return pd.Series(out, index=codes.index)
    try:
        arr = pa.array(obj, type=pa.large_string())
    except (pa.ArrowException, UnicodeError):  # e.g. a lone surrogate: not UTF-8, so not 18 ASCII bytes
        arr = pa.array([x.encode("utf-8", "surrogatepass") for x in obj], type=pa.large_binary())
    ok_len = pc.equal(pc.binary_length(arr), 18).to_numpy(zero_copy_only=False)
    if not ok_len.any():
        return pd.Series(out, index=codes.index)
    good = pc.filter(arr, pa.array(ok_len))
    raw = pa.concat_arrays([good]) if isinstance(good, pa.ChunkedArray) else good
    offsets = np.frombuffer(raw.buffers()[1], dtype=np.int64)[raw.offset:raw.offset + len(raw) + 1]
    data = np.frombuffer(raw.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(-1, 18)
    vals = _LUT[data]
    chars_ok = (vals >= 0).all(axis=1)
    expect = (31 - (vals[:, :17] @ WEIGHTS) % 31) % 31
    out[np.flatnonzero(ok_len)] = chars_ok & (expect == vals[:, 17])
    return pd.Series(out, index=codes.index)


def make(first17: str) -> str:
    """A complete code from its first 17 characters (used by the demo generator and tests)."""
    return first17 + check_digit(first17)
