"""Canonical column names shared by every stage (English snake_case; Chinese labels live in
``report/labels.py``).
"""

from __future__ import annotations

#: Firm statuses of DESIGN.md
STATUSES = ("graded", "exempt", "not_graded", "no_land", "parcel_not_found")
LAND_SOURCES = ("polygon", "certificate", "reported")

#: Numeric firm figures in canonical units (column → unit kind, see units.py)
FIRM_FIGURES = {
    "revenue_wan": "money",
    "output_wan": "money",
    "tax_wan": "money",
    "value_added_wan": "money",
    "energy_tce": "energy",
    "electricity_10k_kwh": "electricity",
    "emissions_t": "mass",
    "employees": "people",
    "rd_wan": "money",
    "reported_land_mu": "area_mu",
    "occupied_m2": "area_m2",
    "land_share": "ratio",
}
#: Text/other firm fields
FIRM_TEXT = ["uscc", "name", "parcel_ids", "scale", "industry_code", "park"]
FIRM_DATES = ["established"]
FIRM_COORDS = ["lon", "lat"]

#: Figures summed to parcels and parks (by each firm's land share)
SUMMABLE = ["revenue_wan", "output_wan", "tax_wan", "value_added_wan", "energy_tce",
            "electricity_10k_kwh", "emissions_t", "employees", "rd_wan"]

#: Indicators of DOMAIN.md: key → (numerator, denominator). Denominator "land_mu" is the firm's land
#: (a parcel's area_mu, a park's summed land).
INDICATORS: dict[str, tuple[str, str]] = {
    "tax_per_mu": ("tax_wan", "land_mu"),
    "revenue_per_mu": ("revenue_wan", "land_mu"),
    "output_per_mu": ("output_wan", "land_mu"),
    "value_added_per_mu": ("value_added_wan", "land_mu"),
    "revenue_per_employee": ("revenue_wan", "employees"),
    "labour_productivity": ("value_added_wan", "employees"),
    "va_per_energy": ("value_added_wan", "energy_tce"),
    "revenue_per_energy": ("revenue_wan", "energy_tce"),
    "va_per_emission": ("value_added_wan", "emissions_t"),
    "tax_per_electricity": ("tax_wan", "electricity_10k_kwh"),
    "rd_intensity": ("rd_wan", "revenue_wan"),
}

#: Parcel attributes read from a parcel layer (canonical names)
PARCEL_TEXT = ["parcel_id", "holder_name", "holder_uscc", "land_use", "park", "industry_code"]
PARCEL_DATES = ["granted", "agreed_start", "actual_start", "agreed_completion", "stopped_since"]
PARCEL_NUMBERS = ["cert_area_mu", "agreed_investment_wan", "actual_investment_wan", "developed_m2",
                  "developed_share"]
