"""Units: 亩, 万元, and the conversion factors for units written in header brackets.

1 亩 = 10000/15 m² exactly (15 亩 = 1 公顷); never the rounded 666.67.
"""

from __future__ import annotations

#: square metres in one 亩, exactly
M2_PER_MU: float = 10000.0 / 15.0
#: 亩 in one square metre
MU_PER_M2: float = 15.0 / 10000.0
#: 亩 in one hectare (公顷)
MU_PER_HA: float = 15.0


def m2_to_mu(m2):
    """area_mu = area_m2 × 15 / 10000 (works on scalars, numpy arrays and pandas Series)."""
    return m2 * MU_PER_M2


def mu_to_m2(mu):
    """area_m2 = area_mu × 10000 / 15."""
    return mu * M2_PER_MU


#: Multiply a figure written in the key unit by the factor to get the canonical unit of its kind.
#: money → 万元, electricity → 万千瓦时, area → 亩 (land) — floor areas use AREA_TO_M2 instead.
MONEY_TO_WAN = {"元": 1e-4, "千元": 0.1, "万元": 1.0, "百万元": 100.0, "亿元": 1e4}
ELECTRICITY_TO_10K_KWH = {"千瓦时": 1e-4, "kwh": 1e-4, "度": 1e-4, "万千瓦时": 1.0, "万度": 1.0,
                          "mwh": 0.1, "兆瓦时": 0.1, "亿千瓦时": 1e4}
AREA_TO_MU = {"平方米": MU_PER_M2, "m2": MU_PER_M2, "m²": MU_PER_M2, "㎡": MU_PER_M2, "平米": MU_PER_M2,
              "亩": 1.0, "mu": 1.0, "公顷": MU_PER_HA, "ha": MU_PER_HA, "hm2": MU_PER_HA, "hm²": MU_PER_HA,
              "平方公里": 1500.0, "km2": 1500.0, "km²": 1500.0}
AREA_TO_M2 = {k: v * M2_PER_MU for k, v in AREA_TO_MU.items()}
ENERGY_TO_TCE = {"吨标准煤": 1.0, "吨标煤": 1.0, "tce": 1.0, "万吨标准煤": 1e4, "千克标准煤": 1e-3,
                 "kgce": 1e-3}
MASS_TO_T = {"吨": 1.0, "t": 1.0, "千克": 1e-3, "kg": 1e-3, "公斤": 1e-3, "万吨": 1e4}
PEOPLE = {"人": 1.0, "个": 1.0, "万人": 1e4}
RATIO = {"%": 0.01, "％": 0.01, "比例": 1.0, "ratio": 1.0}
