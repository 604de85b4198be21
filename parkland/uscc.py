"""统一社会信用代码 (unified social credit code, GB 32100-2015): normalising and the check digit.

The 18th character is the check digit: with the 31-character alphabet ``0-9 A-H J-N P-R T U W-Y``
(no I, O, Z, S, V) and weights w_i = 3^(i-1) mod 31 for positions i = 1..17,
c18 = alphabet[(31 − Σ value(c_i) × w_i mod 31) mod 31].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


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

    Works on the character matrix: values via a lookup table, the weighted sum with one matrix product.
    """
    s = codes.astype("object").where(codes.notna(), "")
    s = s.map(str)
    ok_len = s.str.len().eq(18).to_numpy()
    out = np.zeros(len(s), dtype=bool)
    if not ok_len.any():
        return pd.Series(out, index=codes.index)
    good = s[ok_len].to_numpy(dtype="U18")
    ords = good.view(np.uint32).reshape(-1, 18).astype(np.int64)
    lut = np.full(128, -1, dtype=np.int64)
    for c, v in _VALUE.items():
        lut[ord(c)] = v
    codes_arr = np.where(ords < 128, ords, 0)
    vals = lut[codes_arr]
    chars_ok = (vals >= 0).all(axis=1)
    expect = (31 - (vals[:, :17] @ WEIGHTS) % 31) % 31
    out[np.flatnonzero(ok_len)] = chars_ok & (expect == vals[:, 17])
    return pd.Series(out, index=codes.index)


def make(first17: str) -> str:
    """A complete code from its first 17 characters (used by the demo generator and tests)."""
    return first17 + check_digit(first17)
