"""Land diagnosis rules: every idle / vacant / stopped / low-efficiency rule with a parcel that just meets
it and one that just misses it (dates one day either side, shares just above and below)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkland.errors import PolicyError
from parkland.land import (
    DAYS_PER_YEAR,
    OUTPUT_COLUMNS,
    _num,
    _pct,
    _to_gbt2002,
    control_indicators,
    crosswalk,
    diagnose,
    far_min_for,
    far_table,
    to_gbt2002,
)
from parkland.report.labels import REASON_LABELS

AS_OF = "2024-06-30"
BASE = {"area_m2": 10000.0, "area_mu": 15.0, "park": "P1", "firm_count": 1, "tax_wan": 150.0,
        "tax_per_mu": 10.0, "revenue_wan": 1500.0, "revenue_per_mu": 100.0, "building_count": 2,
        "far": 2.0, "building_coverage": 0.5}
DATES = ("granted", "agreed_start", "actual_start", "agreed_completion", "stopped_since")


def parcels(*rows: dict, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """Parcels P1, P2, … with healthy defaults (10 万元/亩 tax, FAR 2, coverage 50 %) unless overridden."""
    recs = [{**BASE, "source_row": i + 1, "parcel_id": f"P{i + 1}", **r} for i, r in enumerate(rows)]
    df = pd.DataFrame(recs)
    for c in DATES:
        df[c] = pd.to_datetime(df[c]) if c in df else pd.NaT
    return df.drop(columns=list(drop))


def run(df, firms=None, pairs=None, **kw):
    kw.setdefault("thresholds", {})
    return diagnose(df, firms, pairs, as_of=AS_OF, **kw).frame


def reasons(frame) -> list[list[str]]:
    return [r.split(";") if r else [] for r in frame["flag_reasons"]]


def has(frame, code) -> list[bool]:
    return [code in r for r in reasons(frame)]


# --------------------------------------------------------------------------------------------------
# crosswalk and control table
# --------------------------------------------------------------------------------------------------
def test_crosswalk_2017_to_2002():
    codes = pd.Series(["38", "C3811", "39", "3911", "43", "4320", "2921", "2911", "29", "3471", "13", None, "51"])
    assert to_gbt2002(codes).tolist() == ["39", "39", "40", "40", None, None, "30", "29", "29", "41", "13",
                                          None, None]
    assert to_gbt2002(pd.Series(["3911", 2611.0]), edition="2002").tolist() == ["39", "26"]
    cw = crosswalk()
    assert cw["source"].str.len().min() > 10  # every mapping names its source
    assert set(cw["code_2017"].str[:2]) == {str(i) for i in range(13, 44)}


def test_far_minimums_and_policy_overrides():
    assert control_indicators()["coverage_min"] == 0.30
    t = far_table({})
    assert (t["13"], t["17"], t["25"], t["26"], t["27"], t["39"], t["40"], t["43"]) == (1.0, 0.8, 0.5, 0.6, 0.7,
                                                                                     0.7, 1.0, 0.7)
    assert "38" not in t  # 2002 has no division 38
    codes = pd.Series(["38", "39", "43", "26"])
    np.testing.assert_array_equal(far_min_for(codes), [0.7, 1.0, np.nan, 0.6])
    # Sichuan-style: 26 raised to 0.7 by override, then +0.1 on everything
    np.testing.assert_allclose(far_min_for(codes, {"far_min_overrides": {"26": 0.7}, "far_min_add": 0.1}),
                               [0.8, 1.1, np.nan, 0.8])
    np.testing.assert_allclose(far_min_for(codes, {"far_min_add": 0.1, "far_min_add_codes": ["39"]}),
                               [0.8, 1.0, np.nan, 0.6])


def test_bad_threshold_is_a_policy_error():
    with pytest.raises(PolicyError, match="low_tax_per_mu"):
        run(parcels({}), thresholds={"low_tax_per_mu": "eight"})
    with pytest.raises(PolicyError, match="stopped_drop"):
        run(parcels({}), thresholds={"stopped_drop": -0.1})


# --------------------------------------------------------------------------------------------------
# legal idle land
# --------------------------------------------------------------------------------------------------
def test_idle_not_started_one_day_either_side():
    f = run(parcels({"agreed_start": "2023-06-30"}, {"agreed_start": "2023-07-01"},
                    # started late: one day after the deadline 2023-01-01, and on it
                    {"agreed_start": "2022-01-01", "actual_start": "2023-01-02"},
                    {"agreed_start": "2022-01-01", "actual_start": "2023-01-01"},
                    {"agreed_start": "2023-06-30", "actual_start": "2024-07-01"}))  # start after as_of
    assert f["idle"].tolist() == [True, False, True, False, True]
    assert has(f, "IDLE_NOT_STARTED") == [True, False, True, False, True]
    assert f["idle_fee_due"].tolist() == [True, False, True, False, True]
    # 2023-06-30 → 2024-06-30 is 366 days (leap year); late start: 2022-01-01 → 2023-01-02, 366 days
    assert f["idle_years"].iloc[0] == pytest.approx(366 / DAYS_PER_YEAR, rel=1e-12)
    assert f["idle_years"].iloc[2] == pytest.approx(366 / DAYS_PER_YEAR, rel=1e-12)
    assert np.isnan(f["idle_years"].iloc[1])
    assert "约定开工日期2023-06-30" in f["flag_detail"].iloc[0]
    assert "实际开工日期无" in f["flag_detail"].iloc[0]
    assert "20%" in f["flag_detail"].iloc[0]


def test_idle_stopped_dates_and_shares():
    started = {"actual_start": "2020-01-01", "agreed_start": "2019-06-01"}
    f = run(parcels(
        {**started, "stopped_since": "2023-06-30", "developed_share": 0.2},  # stopped exactly a year
        {**started, "stopped_since": "2023-07-01", "developed_share": 0.2},  # a day short
        {**started, "stopped_since": "2022-01-01", "developed_m2": 3333.33},  # 0.333333 < 1/3
        {**started, "stopped_since": "2022-01-01", "developed_m2": 3333.34},  # 0.333334 ≥ 1/3
        {**started, "stopped_since": "2022-01-01", "agreed_investment_wan": 10000.0,
         "actual_investment_wan": 2499.0},  # 24.99 %
        {**started, "stopped_since": "2022-01-01", "agreed_investment_wan": 10000.0,
         "actual_investment_wan": 2500.0},  # 25 % is not under 25 %
        {**started, "stopped_since": "2022-01-01"},  # neither share known: not judged
    ))
    assert has(f, "IDLE_STOPPED") == [True, False, True, False, True, False, False]
    assert f["idle"].tolist() == [True, False, True, False, True, False, False]
    assert f["developed_share_used"].iloc[2] == pytest.approx(0.333333, rel=1e-12)
    assert f["investment_share"].iloc[4] == pytest.approx(0.2499, rel=1e-12)
    assert f["idle_years"].iloc[0] == pytest.approx(366 / DAYS_PER_YEAR, rel=1e-12)
    d = f["flag_detail"].iloc[0]
    assert "已于2020-01-01开工" in d and "自2023-06-30停工" in d and "20.0%" in d


def test_reclaim_warning_at_two_years():
    f = run(parcels({"agreed_start": "2022-06-30"}, {"agreed_start": "2022-07-01"},
                    {"actual_start": "2020-01-01", "stopped_since": "2022-06-30", "developed_share": 0.1},
                    {"actual_start": "2020-01-01", "stopped_since": "2022-07-01", "developed_share": 0.1}))
    assert f["idle"].all()
    assert f["reclaim_warning"].tolist() == [True, False, True, False]
    assert has(f, "IDLE_RECLAIM") == [True, False, True, False]
    assert f["idle_years"].iloc[0] == pytest.approx(731 / DAYS_PER_YEAR, rel=1e-12)


def test_threshold_aliases_of_the_preset():
    df = parcels({"agreed_start": "2023-01-01"})  # 1.5 years before as_of
    assert run(df)["idle"].tolist() == [True]
    assert run(df, thresholds={"idle_after_years": 2})["idle"].tolist() == [False]
    assert run(df, thresholds={"idle_start_years": 1.5})["idle"].tolist() == [False]  # 18 months: 2024-07-01
    assert run(parcels({"agreed_start": "2022-12-31"}), thresholds={"idle_start_years": 1.5})["idle"].tolist() == [True]


# --------------------------------------------------------------------------------------------------
# vacant
# --------------------------------------------------------------------------------------------------
def test_vacant_no_firm_no_building():
    f = run(parcels({"firm_count": 0, "building_count": 0, "tax_wan": 0.0, "tax_per_mu": 0.0},
                    {"firm_count": 0, "building_count": 1, "tax_wan": 0.0, "tax_per_mu": 0.0},
                    {"firm_count": 1, "building_count": 0}))
    assert f["vacant"].tolist() == [True, False, False]
    assert has(f, "VACANT") == [True, False, False]
    # a parcel without firms is not judged on tax
    assert has(f, "LOW_TAX") == [False, False, False]
    assert f["flag_detail"].iloc[0].startswith("【空置：无企业、无建筑】")


def test_vacant_raster_rule():
    df = parcels(*[{"firm_count": 0, "tax_wan": np.nan, "tax_per_mu": np.nan}] * 4, drop=("building_count",))
    stats = pd.DataFrame({"ndvi_mean": [0.4, 0.3999, 0.7, 0.7], "ndvi_coverage": [1.0, 1.0, 0.5, 0.49]},
                         index=df.index)
    f = run(df, raster_stats=stats)
    assert has(f, "VACANT_RASTER") == [True, False, True, False]
    assert f["vacant"].tolist() == [True, False, True, False]
    assert f["ndvi_mean"].tolist() == [0.4, 0.3999, 0.7, 0.7]  # the raster columns are carried
    assert "ndvi均值0.4（认定阈值≥0.4）" in f["flag_detail"].iloc[0]
    # a bureau rule on another raster: night lights at most 2
    stats2 = pd.DataFrame({"light_mean": [1.9, 2.1, 2.0, np.nan]}, index=df.index)
    f2 = run(df, raster_stats=stats2, thresholds={"vacant_raster": {"name": "light", "max_mean": 2.0}})
    assert f2["vacant"].tolist() == [True, False, True, False]


# --------------------------------------------------------------------------------------------------
# stopped
# --------------------------------------------------------------------------------------------------
def _firms(**cols):
    n = len(next(iter(cols.values())))
    return pd.DataFrame({"source_row": np.arange(1, n + 1), "uscc": [f"U{i}" for i in range(1, n + 1)], **cols})


def test_stopped_zero_figures_missing_is_unknown():
    firms = _firms(revenue_wan=[0.0, 0.0, 0.0, 50.0], tax_wan=[0.0, 0.0, 0.0, 5.0],
                   electricity_10k_kwh=[0.0, np.nan, 0.0, 3.0])
    pairs = pd.DataFrame({"firm_row": [1, 2, 3, 4], "parcel_row": [1, 2, 3, 3], "share": 1.0})
    f = run(parcels({}, {}, {"firm_count": 2}), firms, pairs)
    assert f["stopped"].tolist() == [True, False, False]  # P2: electricity unknown; P3: one firm works
    assert has(f, "STOPPED") == [True, False, False]
    assert "关联企业1家均已停产" in f["flag_detail"].iloc[0]


def test_stopped_drop_against_last_year():
    firms = _firms(revenue_wan=[29.99, 30.01, 29.99], tax_wan=[1.0, 1.0, 1.0],
                   electricity_10k_kwh=[2.999, 2.999, 5.0])
    prev = pd.DataFrame({"uscc": ["U1", "U2", "U3"], "revenue_wan": [100.0, 100.0, 100.0],
                         "electricity_10k_kwh": [10.0, 10.0, 10.0]})
    pairs = pd.DataFrame({"firm_row": [1, 2, 3], "parcel_row": [1, 2, 3]})
    f = run(parcels({}, {}, {}), firms, pairs, previous_firms=prev)
    # U1: revenue −70.01 %, electricity −70.01 % → stopped; U2: revenue −69.99 %; U3: electricity −50 %
    assert has(f, "STOPPED_DROP") == [True, False, False]
    assert f["stopped"].tolist() == [True, False, False]
    assert "最小降幅70.01%" in f["flag_detail"].iloc[0]
    # without last year's table nothing drops
    assert run(parcels({}, {}, {}), firms, pairs)["stopped"].tolist() == [False, False, False]


# --------------------------------------------------------------------------------------------------
# low efficiency
# --------------------------------------------------------------------------------------------------
def test_low_tax_and_revenue_thresholds():
    f = run(parcels({"tax_per_mu": 7.999}, {"tax_per_mu": 8.0}, {"revenue_per_mu": 99.99}, {"revenue_per_mu": 100.0}))
    assert has(f, "LOW_TAX") == [True, False, False, False]
    assert has(f, "LOW_REVENUE") == [False] * 4  # off by default
    g = run(parcels({"tax_per_mu": 7.999}, {"tax_per_mu": 8.0}, {"revenue_per_mu": 99.99}, {"revenue_per_mu": 100.0}),
            thresholds={"low_revenue_per_mu": 100.0})
    assert has(g, "LOW_REVENUE") == [False, False, True, False]
    assert g["low_efficiency"].tolist() == [True, False, True, False]
    assert "亩均税收8.0万元/亩" not in f["flag_detail"].iloc[1]
    assert "亩均税收8.0万元/亩，低于8万元/亩" in f["flag_detail"].iloc[0]  # 7.999 shown to two decimals


def test_low_tax_against_half_the_park_average():
    # park Q: q1 300 万元 on 15 亩; q2 t on 15 亩; below half the average when t/15 < (300 + t)/60 ⇔ t < 100
    rows = [{"park": "Q", "tax_wan": 300.0, "tax_per_mu": 20.0},
            {"park": "Q", "tax_wan": 99.9, "tax_per_mu": 99.9 / 15}]
    f = run(parcels(*rows), thresholds={"low_tax_per_mu": 0.0})
    assert has(f, "LOW_TAX_PARK") == [False, True]
    rows[1] = {"park": "Q", "tax_wan": 100.1, "tax_per_mu": 100.1 / 15}
    f = run(parcels(*rows), thresholds={"low_tax_per_mu": 0.0})
    assert has(f, "LOW_TAX_PARK") == [False, False]
    # the park average excludes parcels without firms
    rows.append({"park": "Q", "firm_count": 0, "tax_wan": 0.0, "tax_per_mu": 0.0})
    assert has(run(parcels(*rows), thresholds={"low_tax_per_mu": 0.0}), "LOW_TAX_PARK") == [False, False, False]


def test_low_far_by_landholder_firms_or_parcel_industry():
    firms = pd.DataFrame({"source_row": [1, 2, 3], "uscc": ["H", "A", "B"],
                          "industry_code": ["C3811", "2611", "1310"]})
    pairs = pd.DataFrame({"firm_row": [1, 2, 3, 2], "parcel_row": [1, 3, 3, 4]})
    df = parcels({"holder_uscc": "H", "far": 0.6999},  # 2017 38 → 2002 39: 0.7
                 {"holder_uscc": "H", "far": 0.7},
                 {"far": 0.9999, "firm_count": 2},  # firms 26 (0.6) and 13 (1.0): strictest 1.0
                 {"far": 0.9999, "industry_code": "1310"},  # firm 26 (0.6) wins over the parcel's own code
                 {"far": 0.9999, "industry_code": "2921", "firm_count": 0},  # own code: plastics → 1.0
                 {"far": 0.1, "industry_code": "4320"})  # 2017 43 repair: no control value
    f = run(df, firms, pairs)
    assert has(f, "LOW_FAR") == [True, False, True, False, True, False]
    assert f["far_min"].tolist()[:5] == [0.7, 0.7, 1.0, 0.6, 1.0] and np.isnan(f["far_min"].iloc[5])
    assert f["control_source"].tolist() == ["holder", "holder", "firm", "firm", "parcel", ""]
    assert f["control_code_2002"].tolist()[:5] == ["39", "39", "13", "26", "30"]
    assert "GB/T 4754-2002 39大类" in f["flag_detail"].iloc[0]
    # overrides: 39 lowered to 0.6 → 0.6999 passes; +0.1 everywhere → 0.75 on 39 fails
    g = run(df, firms, pairs, thresholds={"far_min_overrides": {"39": 0.6}})
    assert has(g, "LOW_FAR")[0] is False
    h = run(parcels({"holder_uscc": "H", "far": 0.75}), firms, pairs, thresholds={"far_min_add": 0.1})
    assert has(h, "LOW_FAR") == [True]


def test_low_coverage_and_unbuilt_parcels():
    f = run(parcels({"building_coverage": 0.2999}, {"building_coverage": 0.30},
                    {"building_coverage": 0.0, "far": 0.0, "building_count": 0}))
    assert has(f, "LOW_COVERAGE") == [True, False, False]  # no building: judged idle/vacant, not here
    assert "建筑系数29.99%，低于控制指标30%" in f["flag_detail"].iloc[0]
    g = run(parcels({"building_coverage": 0.2999}), thresholds={"min_building_coverage": 0.25})
    assert has(g, "LOW_COVERAGE") == [False]


def test_grade_d_and_overdue_completion():
    f = run(parcels({"grade": "D"}, {"grade": "C"},
                    {"agreed_completion": "2022-06-30", "developed_share": 0.9},
                    {"agreed_completion": "2022-07-01", "developed_share": 0.9},
                    {"agreed_completion": "2022-06-30", "developed_share": 1.0},
                    {"agreed_completion": "2022-06-30"}))
    assert has(f, "GRADE_D") == [True, False, False, False, False, False]
    assert has(f, "OVERDUE_COMPLETION") == [False, False, True, False, False, False]
    assert f["low_efficiency"].tolist() == [True, False, True, False, False, False]
    # with an actual completion column the date decides
    df = parcels({"agreed_completion": "2022-06-30"}, {"agreed_completion": "2022-06-30"})
    df["actual_completion"] = pd.to_datetime(["2024-07-01", "2024-06-30"])
    assert has(run(df), "OVERDUE_COMPLETION") == [True, False]


# --------------------------------------------------------------------------------------------------
# Huzhou's five kinds, reason codes and output columns
# --------------------------------------------------------------------------------------------------
def test_huzhou_kinds():
    firms = _firms(revenue_wan=[0.0], tax_wan=[0.0], electricity_10k_kwh=[0.0])
    pairs = pd.DataFrame({"firm_row": [1], "parcel_row": [4]})
    empty = {"firm_count": 0, "tax_wan": np.nan, "tax_per_mu": np.nan}
    df = parcels(
        {**empty, "building_count": 0},  # not granted, no holder
        {**empty, "building_count": 0, "granted": "2022-01-01", "agreed_start": "2023-06-01", "holder_name": "甲"},
        {"actual_start": "2021-01-01", "developed_share": 0.8},
        {"building_count": 3},  # its one firm stopped
        {"tax_per_mu": 5.0},
        {},
    )
    f = run(df, firms, pairs)
    assert f["huzhou_kind"].tolist() == ["HUZHOU_APPROVED_NOT_SUPPLIED", "HUZHOU_SUPPLIED_NOT_USED",
                                         "HUZHOU_USED_NOT_FULL", "HUZHOU_BUILT_NOT_OPERATING",
                                         "HUZHOU_OPERATING_BELOW_STANDARD", ""]
    assert run(df, firms, pairs, thresholds={"huzhou": False})["huzhou_kind"].eq("").all()


def test_reason_codes_are_labelled_and_ordered():
    f = run(parcels({"agreed_start": "2020-01-01", "tax_per_mu": 1.0, "building_coverage": 0.1, "grade": "D"}))
    codes = reasons(f)[0]
    assert codes == ["IDLE_NOT_STARTED", "IDLE_RECLAIM", "LOW_TAX", "LOW_TAX_PARK", "LOW_COVERAGE", "GRADE_D",
                     "HUZHOU_USED_NOT_FULL"]
    assert all(c in REASON_LABELS for c in codes)
    assert f["flag_detail"].iloc[0].count("【") == len(codes)
    for col in ("idle", "vacant", "stopped", "low_efficiency", "idle_fee_due", "reclaim_warning"):
        assert f[col].dtype == bool
    healthy = run(parcels({}))
    assert healthy["flag_reasons"].tolist() == [""] and healthy["flag_detail"].tolist() == [""]
    assert not healthy[["idle", "vacant", "stopped", "low_efficiency"]].any(axis=None)


# --------------------------------------------------------------------------------------------------
# the texts are built on the flagged rows only, each distinct value formatted once
# --------------------------------------------------------------------------------------------------
def test_detail_texts_whole_on_their_own_rows_only():
    df = parcels({}, {"tax_per_mu": 7.999, "far": 0.1, "industry_code": "C3811"}, {},
                 {"building_coverage": 0.2999}).set_axis([40, 3, 17, 0])  # any index: rows go by position
    before = df.copy()
    f = run(df)
    assert f.index.tolist() == [40, 3, 17, 0]
    assert f["flag_reasons"].tolist() == ["", "LOW_TAX;LOW_FAR;HUZHOU_USED_NOT_FULL", "",
                                          "LOW_COVERAGE;HUZHOU_USED_NOT_FULL"]
    huzhou = "【用而未尽】湖州五类：用而未尽（已动工但未按约定全部开发或容积率、建筑系数不足）"
    # park average 150 万元 / 15 亩 = 10: half of it (5) is below 7.999, so no LOW_TAX_PARK; C3811 → 2002 division
    # 39, whose minimum FAR is 0.7
    assert f["flag_detail"].tolist() == [
        "",
        "【亩均税收低于标准】亩均税收8.0万元/亩，低于8万元/亩；【容积率低于控制指标】容积率0.1，低于宗地行业"
        "（GB/T 4754-2002 39大类）控制指标0.7；" + huzhou,
        "",
        "【建筑系数低于控制指标】建筑系数29.99%，低于控制指标30%；" + huzhou]
    assert str(f["flag_detail"].dtype) == "str" and str(f["flag_reasons"].dtype) == "str"
    pd.testing.assert_frame_equal(df, before)  # the caller's frame is left as it was


def test_no_parcels_no_texts():
    f = run(parcels({}).iloc[:0])
    assert len(f) == 0 and set(OUTPUT_COLUMNS) <= set(f.columns)


def test_numbers_in_texts_as_python_writes_them():
    x = pd.Series([1.005, -0.001, np.nan, 12.0, 1e16, 2.5, 2.5])
    assert _num(x).to_pylist() == ["1.0", "0.0", "未知", "12.0", "1e+16", "2.5", "2.5"]
    assert _num(x, 3).to_pylist()[:2] == ["1.005", "-0.001"]
    assert _pct(pd.Series([0.5, np.nan, -0.00001, 0.29994])).to_pylist() == ["50.0%", "未知", "0.0%", "29.99%"]


@pytest.mark.parametrize("edition", ["2017", "2002"])
def test_industry_codes_converted_once_each_as_row_by_row(edition):
    codes = {
        "str": pd.Series(["C3811", "c 38-11", "2921", "43", None, "", "１３", "C3811"], dtype="str", name="code"),
        "object": pd.Series(["3811", None, "2921", "3811"], dtype=object, name="code"),
        "float": pd.Series([3811.0, np.nan, 1311.5, 13.0, 3811.0], name="code"),
        "int": pd.Series([3811, 13, 3811], name="code", index=[5, 2, 9]),
        "all missing": pd.Series([None, None], dtype=object, name="code"),
        "mixed (row by row)": pd.Series([True, 1, 1.0, "1311", None], dtype=object),
    }
    for name, c in codes.items():
        fast, rowwise = to_gbt2002(c, edition), _to_gbt2002(c, edition)
        pd.testing.assert_series_equal(fast, rowwise, check_exact=True, obj=name)
        assert [type(v) for v in fast] == [type(v) for v in rowwise], name
    assert to_gbt2002(codes["str"], edition).tolist() == (
        ["39", "39", "30", None, None, None, "13", "39"] if edition == "2017"
        else ["38", "38", "29", "43", None, None, "13", "38"])
