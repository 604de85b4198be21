"""亩均效益 grading driven by policy files: scope, tracks, scores, grades, consequences, year on year,
objection reviews. Pure functions on the firm frame; policies are data (``presets/*.toml``)."""

from parkland.scoring.explain import consequences, gaps
from parkland.scoring.grades import (
    assign_grades,
    classify,
    county_table,
    grade_firms,
    parcel_grades,
    park_table,
)
from parkland.scoring.overrides import apply_overrides_after, apply_overrides_before
from parkland.scoring.policy import Policy, load_policy, loads_policy, parse_policy, presets
from parkland.scoring.yoy import year_on_year

__all__ = [
    "Policy",
    "apply_overrides_after",
    "apply_overrides_before",
    "assign_grades",
    "classify",
    "consequences",
    "county_table",
    "gaps",
    "grade_firms",
    "load_policy",
    "loads_policy",
    "parcel_grades",
    "park_table",
    "parse_policy",
    "presets",
    "year_on_year",
]
