"""report/export.py: the CSV writer (Arrow body, pandas-compatible text)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from parkland.report import export


def test_csv_text_is_exact(tmp_path: Path) -> None:
    df = pd.DataFrame({
        "name": ["甲,乙", None, '说"明', "=1+1", "", "a\nb"],
        "x": [1.0, np.nan, 0.1, 1e16, -2.5, 1 / 3],
        "n": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
        "ok": [True, False, True, False, True, True],
        "maybe": pd.array([True, None, False, True, True, False], dtype="boolean"),
        "mixed": [1, "a", None, 2.5, True, "b"],
        "day": pd.to_datetime(["2024-01-02", None, "2024-12-31", "2024-01-02", "2024-01-02", "2024-01-02"]),
    })
    p = export.write_csv(df, tmp_path / "t.csv")
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    assert raw.decode("utf-8-sig") == (
        '"name","x","n","ok","maybe","mixed","day"\n'
        '"甲,乙",1,1,"True","True","1","2024-01-02"\n'
        ',,,"False",,"a",\n'
        '"说""明",0.1,3,"True","False",,"2024-12-31"\n'
        '"\'=1+1",1e+16,4,"False","True","2.5","2024-01-02"\n'
        '"",-2.5,5,"True","True","True","2024-01-02"\n'
        '"a\nb",0.3333333333333333,6,"True","False","b","2024-01-02"\n'
    )
    back = pd.read_csv(p, encoding="utf-8-sig")
    assert back["x"].iloc[5] == 1 / 3 and back["x"].iloc[3] == 1e16
    assert back["ok"].tolist() == [True, False, True, False, True, True]


def test_csv_times_of_day_and_empty(tmp_path: Path) -> None:
    df = pd.DataFrame({"t": pd.to_datetime(["2024-01-02 08:30:00", "2024-01-03 00:00:00"])})
    assert export.write_csv(df, tmp_path / "t.csv").read_text("utf-8-sig") == (
        '"t"\n"2024-01-02 08:30:00"\n"2024-01-03 00:00:00"\n')
    empty = pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)})
    assert export.write_csv(empty, tmp_path / "e.csv").read_text("utf-8-sig") == '"a","b"\n'


def test_csv_same_bytes_twice(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"v": rng.normal(size=1000), "s": [f"企业{i}" for i in range(1000)]})
    a = export.write_csv(df, tmp_path / "a.csv").read_bytes()
    b = export.write_csv(df, tmp_path / "b.csv").read_bytes()
    assert a == b
    back = pd.read_csv(tmp_path / "a.csv", encoding="utf-8-sig")
    np.testing.assert_array_equal(back["v"].to_numpy(), df["v"].to_numpy())  # shortest round-trip form


def test_csv_other_types_are_written_as_text(tmp_path: Path) -> None:
    df = pd.DataFrame({
        "period": pd.period_range("2024-01", periods=2, freq="M"),
        "interval": pd.arrays.IntervalArray.from_breaks([0, 1, 2]),
        "wait": pd.to_timedelta(["1 days", None]),
        "utc": pd.to_datetime(["2023-12-31 16:30", "2024-01-01 00:00"]).tz_localize("UTC"),
        "fine": pd.to_datetime(["2024-01-01 00:00:00.5", "2024-01-02 00:00:00"], format="mixed"),
        "cat": pd.Categorical(["甲", None]),
        None: [1, 2],
    })
    path = export.write_csv(df, tmp_path / "t.csv")
    assert path.read_text("utf-8-sig").splitlines()[0] == '"period","interval","wait","utc","fine","cat",""'
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back["period"].tolist() == ["2024-01", "2024-02"]
    assert back["interval"].tolist() == ["(0, 1]", "(1, 2]"]
    assert back["wait"].tolist() == ["1 days", ""]
    assert back["utc"].tolist() == ["2023-12-31 16:30:00+00:00", "2024-01-01 00:00:00+00:00"]
    assert pd.to_datetime(back["fine"], format="mixed").tolist() == df["fine"].tolist()  # the half second kept
    assert back["cat"].tolist() == ["甲", ""]


def test_csv_one_column_with_gaps_keeps_its_rows(tmp_path: Path) -> None:
    df = pd.DataFrame({"note": ["a", None, np.nan, "b"]})
    back = pd.read_csv(export.write_csv(df, tmp_path / "t.csv"), encoding="utf-8-sig")
    assert len(back) == 4 and back["note"].iloc[3] == "b"


def test_csv_repeated_column_names(tmp_path: Path) -> None:
    df = pd.DataFrame([["=1", 2.5], ["x", 3.0]], columns=["firms", "firms"])
    text = export.write_csv(df, tmp_path / "t.csv").read_text("utf-8-sig")
    assert text.splitlines()[0].count("firms") == 2 and "'=1" in text


def test_gpkg_in_slices_is_the_same_layer(tmp_path: Path, monkeypatch) -> None:
    import geopandas as gpd
    import pyogrio
    import shapely

    n = 8
    g = gpd.GeoDataFrame({
        "parcel_id": [f"P{i}" for i in range(n)],
        "note": pd.Series([None] * 3 + ["=x", "b", None, "c", "d"], dtype=object),  # empty in slice 1
        "idle": pd.Series([None] * 3 + [True, False, True, None, False], dtype=object),
        "tax_wan": [np.nan] * 3 + [1.5, 2.0, -0.5, 3.25, 4.0],
        "firm_count": pd.array([None] * 3 + [1, 2, 3, 4, 5], dtype="Int64"),
    }, geometry=[shapely.box(i, 0, i + 1, 1) for i in range(n)], crs="EPSG:4523")
    whole = export.write_gpkg(g, tmp_path / "whole.gpkg", "parcels")
    monkeypatch.setattr(export, "GPKG_CHUNK_ROWS", 3)
    sliced = export.write_gpkg(g, tmp_path / "sliced.gpkg", "parcels")
    a, b = (pyogrio.read_info(p, layer="parcels") for p in (whole, sliced))
    assert a["features"] == b["features"] == n
    assert a["fields"].tolist() == b["fields"].tolist() and a["dtypes"].tolist() == b["dtypes"].tolist()
    x, y = (pyogrio.read_dataframe(p, layer="parcels") for p in (whole, sliced))
    pd.testing.assert_frame_equal(pd.DataFrame(x.drop(columns="geometry")), pd.DataFrame(y.drop(columns="geometry")))
    assert y["note"].tolist()[3] == "'=x" and y["idle"].tolist()[3:6] == [1, 0, 1]
    assert x.geometry.geom_equals_exact(y.geometry, 0).all()


def test_neutralise_text_matches_the_per_cell_rule() -> None:
    """The Arrow test of the first character gives the per-cell rule's result on every kind of text
    column, including text Arrow refuses (a lone surrogate), missing cells and non-ASCII starts."""
    import numpy as np

    from parkland.report.export import FORMULA_START, neutralise_text

    rng = np.random.default_rng(7)
    alphabet = ["=", "+", "-", "@", "\t", "\r", "a", "企", "＝", " ", "'", "1", "\n"]
    cells = ["".join(rng.choice(alphabet, size=rng.integers(0, 4))) for _ in range(3000)]
    cells[5], cells[6] = None, np.nan

    def expect(v):
        return "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v

    for extra in ([], ["\ud800=x", "=\ud800"]):
        s = pd.Series(cells + extra, dtype=object)
        got = neutralise_text(s)
        want = [expect(v) for v in s]
        assert [g if isinstance(g, str) else None for g in got] == [w if isinstance(w, str) else None
                                                                    for w in want]
        assert got.isna().sum() == 2
    assert neutralise_text(pd.Series(["=1", "ok"], dtype="str")).tolist() == ["'=1", "ok"]
    assert neutralise_text(pd.Series([1, "=2", None], dtype=object)).tolist() == [1, "'=2", None]


# ------------------------------------------------- write_csvs: a list and its twin with other headers
def _twin_frames(n: int = 300) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A frame with every kind of column, and its twin: other headers, two columns replaced (spelled out)."""
    texts = ["=HYPERLINK(\"x\")", "+1", "-2", "@A1", "\tTab", "\rCR", "甲,乙", '说"明', "", None, "普通"]
    base = pd.DataFrame({
        "name": pd.Series([texts[i % len(texts)] for i in range(n)], dtype=object),
        "code": pd.Series([["a", "=b", None][i % 3] for i in range(n)], dtype="str"),
        "x": np.where(np.arange(n) % 7 == 0, np.nan, np.arange(n) / 3),
        "status": pd.Series([["graded", "exempt", None][i % 3] for i in range(n)], dtype=object),
        "k": np.arange(n, dtype="int64"),
        "ok": np.arange(n) % 2 == 0,
        "maybe": pd.array([[True, None, False][i % 3] for i in range(n)], dtype="boolean"),
        "mixed": pd.Series([[1, "a", None, 2.5, True][i % 5] for i in range(n)], dtype=object),
        "track": pd.Series([["large", "-small"][i % 2] for i in range(n)], dtype=object),
    })
    twin = base.copy(deep=False)
    twin["status"] = base["status"].map({"graded": "参评", "exempt": "=免评"})
    twin["track"] = pd.Series([["规上", "@规下"][i % 2] for i in range(n)], dtype=object)
    twin.columns = ["名称", "代码", "数值", "状态", "序号", "是否", "也许", "混合", "类别"]
    return base, twin


def _alone(tmp_path: Path, frames: list[pd.DataFrame]) -> list[bytes]:
    return [export.write_csv(f, tmp_path / f"alone{i}.csv").read_bytes() for i, f in enumerate(frames)]


def test_write_csvs_gives_the_bytes_of_each_file_alone(tmp_path: Path, monkeypatch) -> None:
    base, twin = _twin_frames()
    want = _alone(tmp_path, [base, twin])
    monkeypatch.setattr(export, "CSV_CHUNK_ROWS", 64)  # rows rendered in chunks: the same bytes
    calls = []
    monkeypatch.setattr(export, "write_csv", lambda *a: calls.append(a))  # the shared path only
    paths = export.write_csvs([(base, tmp_path / "a.csv"), (twin, tmp_path / "b.csv")])
    assert calls == [] and [p.read_bytes() for p in paths] == want
    text = want[1].decode("utf-8-sig").split("\n")
    assert text[0] == '"名称","代码","数值","状态","序号","是否","也许","混合","类别"'
    # row 1: the formula-like name, spelled-out status and track neutralised in the twin, missing cells empty
    assert text[1] == '"\'=HYPERLINK(""x"")","a",,"参评",0,"True","True","1","规上"'
    assert text[2] == '"\'+1","\'=b",0.3333333333333333,"\'=免评",1,"False",,"a","\'@规下"'
    assert text[3] == '"\'-2",,0.6666666666666666,,2,"True","False",,"规上"'
    assert want[0].decode("utf-8-sig").split("\n")[2] == '"\'+1","\'=b",0.3333333333333333,"exempt",1,"False",,"a","\'-small"'
    assert len(text) == 302 and text[-1] == ""  # header, 300 rows, the last line end


def test_write_csvs_shares_only_the_same_arrays(tmp_path: Path, monkeypatch) -> None:
    base, twin = _twin_frames(20)
    plan = export._shared_plan([base, twin.copy(deep=False)])
    runs = [(shared, cols if shared else cols[0]) for shared, cols in plan[0]]
    assert runs == [(True, [0, 1, 2]), (False, [3]), (True, [4, 5, 6, 7]), (False, [8])]
    # equal values but other arrays (1 and True are equal, and written differently): rendered apart
    # (a deep copy keeps the immutable Arrow text of a str column: that one stays shared)
    runs = export._shared_plan([base, base.copy()])[0]
    assert [(shared, cols if shared else cols[0]) for shared, cols in runs] == [
        (False, [0]), (True, [1]), (False, [2, 3, 4, 5, 6, 7, 8])]
    assert not export._same_values(pd.Series([1, 0], dtype=object), pd.Series([True, False], dtype=object))


def test_write_csvs_falls_back_to_each_file_alone(tmp_path: Path) -> None:
    base = _twin_frames(40)[0]
    cases = {
        "line break": base.assign(name=base["name"].where(base.index != 5, "a\nb")),
        "complex numbers": base.assign(k=base["k"] + 1j),  # Arrow cannot take them: pandas writes the files
        "repeated header": base.set_axis(["a", "a", *base.columns[2:]], axis=1),
        "one column": base[["name"]],
    }
    for what, frame in cases.items():
        t = frame.copy(deep=False)
        if frame.shape[1] > 1:
            t.iloc[:, 3] = t.iloc[:, 3].map({"graded": "参评"})
        want = _alone(tmp_path, [frame, t])
        paths = export.write_csvs([(frame, tmp_path / "a.csv"), (t, tmp_path / "b.csv")])
        assert [p.read_bytes() for p in paths] == want, what


def test_write_csv_converts_text_once_as_before(tmp_path: Path) -> None:
    """The text columns go to Arrow once (neutralised there): the table is the one the pandas route gives."""
    base, twin = _twin_frames(50)
    for frame in (base, twin):
        fused = export._neutral_csv_table(frame)
        old = export._csv_table(export.neutralise_frame(frame))
        assert fused.column_names == old.column_names
        for a, b in zip(fused.columns, old.columns):
            assert a.to_pylist() == b.to_pylist()
    assert export._neutral_csv_table(base.set_axis(["a"] * base.shape[1], axis=1)) is None
