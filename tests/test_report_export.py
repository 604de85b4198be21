"""report/export.py: the CSV writer (Arrow body, pandas-compatible text)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parkland.report import export

# what GDAL and pyogrio say about these hand-made layers, on either path
_GPKG_WARNINGS = (pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning"),
                  pytest.mark.filterwarnings("ignore:A geometry of type:RuntimeWarning"),
                  pytest.mark.filterwarnings("ignore:Non-conformant content:RuntimeWarning"))


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


# ---------------------------------------------------------------------------------------------------
# GeoPackage: the Arrow path (export._arrow_gpkg) writes the very file the plain path writes
def _gpkg_rows(path: Path, sql: str) -> list:
    import sqlite3

    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _assert_same_gpkg(a: Path, b: Path) -> None:
    """Same layers, frames (exact), layer info, column declarations, rows as stored (geometry blobs
    included), R-tree rows, gpkg_contents (bounds to 1e-9, not the time stamp) and geometry columns."""
    import pyogrio

    layers = pyogrio.list_layers(a).tolist()
    assert layers == pyogrio.list_layers(b).tolist()
    for name, _ in layers:
        x, y = (pyogrio.read_dataframe(p, layer=name) for p in (a, b))
        pd.testing.assert_frame_equal(x, y, check_exact=True)
        ia, ib = (pyogrio.read_info(p, layer=name) for p in (a, b))
        for k in ("fields", "dtypes", "geometry_type", "crs", "features", "fid_column", "geometry_name"):
            va, vb = ia[k], ib[k]
            assert (va.tolist() if hasattr(va, "tolist") else va) == (vb.tolist() if hasattr(vb, "tolist") else vb), k
        for sql in (f"select sql from sqlite_master where name = '{name}' or name like 'rtree_{name}_%' order by name",
                    f'select * from "{name}" order by 1'):
            assert _gpkg_rows(a, sql) == _gpkg_rows(b, sql), sql
        rtree = f"rtree_{name}_{ia['geometry_name']}"
        if _gpkg_rows(a, f"select 1 from sqlite_master where name = '{rtree}'"):
            assert _gpkg_rows(a, f"select * from {rtree} order by id") == _gpkg_rows(b, f"select * from {rtree} order by id")
    ca, cb = (_gpkg_rows(p, "select table_name, data_type, identifier, min_x, min_y, max_x, max_y, srs_id "
                            "from gpkg_contents order by 1") for p in (a, b))
    assert [r[:3] + r[-1:] for r in ca] == [r[:3] + r[-1:] for r in cb]
    np.testing.assert_allclose(np.array([r[3:7] for r in ca], float), np.array([r[3:7] for r in cb], float),
                               rtol=0, atol=1e-9)
    for sql in ("select * from gpkg_geometry_columns order by 1", "select * from gpkg_spatial_ref_sys order by 1"):
        assert _gpkg_rows(a, sql) == _gpkg_rows(b, sql)


def _plain_gpkg(layers: dict, path: Path) -> Path:
    """The file as written before the Arrow path: _gpkg_ready(neutralise_frame(...)) then to_file."""
    for i, (name, g) in enumerate(layers.items()):
        export._to_gpkg(export._gpkg_ready(export.neutralise_frame(g)), path, name, mode="w" if i == 0 else "a")
    return path


def _gpkg_frames() -> dict:
    import geopandas as gpd
    import shapely

    n = 6
    box = [shapely.box(i, 0, i + 1, 1) for i in range(n)]
    multi = [shapely.MultiPolygon([shapely.box(i, 3, i + 1, 4), shapely.box(i, 6, i + 1, 7)]) for i in range(n)]
    mixed = [box[i] if i % 2 else multi[i] for i in range(n)]

    def frame(geoms=mixed, crs="EPSG:4523", **cols):
        return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=crs)

    g_middle = frame(a=np.arange(n), z=np.linspace(0, 1, n))[["a", "geometry", "z"]]
    sliced = [box[i] for i in range(4)] + mixed + [shapely.Point(0, 0)]
    return {
        "bools": frame(ok=np.array([True, False] * 3), gap=pd.Series([True, None, False] * 2, dtype=object),
                       maybe=pd.array([True, None, False] * 2, dtype="boolean"),
                       full=pd.array([True, False, False] * 2, dtype="boolean"),
                       objb=pd.Series([True, False, True] * 2, dtype=object)),
        "numbers": frame(i64=pd.array([1, None, 3, 4, None, 6], dtype="Int64"), i8=np.arange(n, dtype=np.int8),
                         u8=np.arange(n, dtype=np.uint8), f32=np.linspace(0, 1, n).astype(np.float32),
                         F64=pd.array([0.5, None] * 3, dtype="Float64"),
                         f=np.array([np.inf, -np.inf, 0.0, -0.0, np.nan, 1e308]), big=np.full(n, 2**40)),
        "dates": frame(day=pd.to_datetime(["2020-01-01", None, "2021-05-06", "2022-01-01", None, "1999-12-31"]),
                       at=pd.to_datetime(["2020-01-01 10:11:12", None, "2021-05-06", "2022-01-01", None,
                                          "1999-12-31 23:59:59.5"], format="ISO8601"),
                       sec=pd.Series(pd.to_datetime(["2020-01-01"] * n)).astype("datetime64[s]")),
        "text": frame(o=pd.Series(["=1+1", "+2", "-3", "@4", "\t5", "\r6"], dtype=object),
                      s=pd.Series(["=a", None, "ok", "", "'x", "中=文"], dtype="str"),
                      py=pd.Series(["=a", None, "ok", "", "'x", "=中"], dtype="string[python]"),
                      gaps=pd.Series(["=a", None, np.nan, "", "b", "-"], dtype=object),
                      园区=pd.Series(["甲", "乙", "丙", "丁", "戊", "己"], dtype=object)),
        "missing": frame(o=pd.Series([None] * n, dtype=object), f=np.full(n, np.nan),
                         s=pd.Series([None] * n, dtype="str"), i=pd.array([None] * n, dtype="Int64"),
                         b=pd.array([None] * n, dtype="boolean"), d=pd.Series([pd.NaT] * n, dtype="datetime64[ns]")),
        "empty": frame(geoms=[], a=np.array([], dtype=np.int64), t=pd.Series([], dtype="str"),
                       o=pd.Series([], dtype=object), b=np.array([], dtype=bool)),
        "polygons": frame(geoms=box, a=np.arange(n)),
        "gaps_in_geometry": frame(geoms=[box[0], None, multi[1], None, shapely.Polygon(), shapely.MultiPolygon()],
                                  a=np.arange(n)),
        "no_geometry": frame(geoms=[None] * n, a=np.arange(n)),
        "points": frame(geoms=[shapely.Point(i, i) if i % 2 else shapely.MultiPoint([(i, 0), (0, i)])
                               for i in range(n)], a=np.arange(n)),
        "lines": frame(geoms=[shapely.LineString([(0, 0), (i, 1)]) if i % 2 else
                              shapely.MultiLineString([[(0, 0), (1, i)], [(2, 2), (3, 3)]]) for i in range(n)],
                       a=np.arange(n)),
        "polygons_and_points": frame(geoms=[box[0], shapely.Point(1, 1), multi[2], box[3], shapely.Point(0, 0), None],
                                     a=np.arange(n)),
        "no_crs": frame(crs=None, a=np.arange(n)),
        "crs_without_code": frame(crs="+proj=tmerc +lon_0=120.3 +k=1 +x_0=500000 +ellps=GRS80 +units=m", a=np.arange(n)),
        "geometry_in_the_middle": g_middle,
        "geometry_named_geom": frame(a=np.arange(n)).rename_geometry("geom"),
        "slices": frame(geoms=sliced, a=np.arange(len(sliced)),
                        t=pd.Series(["=x"] + ["a"] * (len(sliced) - 1), dtype="str"),
                        o=pd.Series([None] * 5 + ["q"] * (len(sliced) - 5), dtype=object),
                        gb=pd.Series([True] * 5 + [None] + [False] * (len(sliced) - 6), dtype=object)),
    }


@_GPKG_WARNINGS[0]
@_GPKG_WARNINGS[1]
@_GPKG_WARNINGS[2]
def test_gpkg_arrow_path_writes_the_plain_file(tmp_path: Path, monkeypatch) -> None:
    import pyogrio

    frames = _gpkg_frames()
    for chunk in (250_000, 4):  # whole, and in slices of 4 features (the last slice mixes types)
        monkeypatch.setattr(export, "GPKG_CHUNK_ROWS", chunk)
        for name, g in frames.items():
            d = tmp_path / f"{name}-{chunk}"
            d.mkdir()
            assert export._arrow_gpkg(g, d / "arrow.gpkg", "layer"), name  # the Arrow path takes it
            want = _plain_gpkg({"layer": g}, d / "plain.gpkg")
            _assert_same_gpkg(want, d / "arrow.gpkg")
            _assert_same_gpkg(want, export.write_gpkg(g, d / "w.gpkg", "layer"))
    two = {"parcels": frames["text"], "parks": frames["polygons"]}
    _assert_same_gpkg(_plain_gpkg(two, tmp_path / "plain2.gpkg"), export.write_gpkg_layers(two, tmp_path / "two.gpkg"))
    # what the files hold, by hand
    p = tmp_path / "text-4" / "arrow.gpkg"
    assert _gpkg_rows(p, 'select o, s, py, gaps, "园区" from layer order by fid')[0] == (
        "'=1+1", "'=a", "'=a", "'=a", "甲")
    assert [r[0] for r in _gpkg_rows(p, "select o from layer order by fid")] == [
        "'=1+1", "'+2", "'-3", "'@4", "'\t5", "'\r6"]
    assert [r[1] for r in _gpkg_rows(p, "select o, s from layer order by fid")] == [
        "'=a", None, "ok", "", "'x", "中=文"]
    decl = _gpkg_rows(tmp_path / "bools-250000" / "arrow.gpkg", "select sql from sqlite_master where name = 'layer'")
    assert '"geom" MULTIPOLYGON, "ok" BOOLEAN, "gap" SMALLINT, "maybe" SMALLINT, "full" BOOLEAN, "objb" SMALLINT)' in decl[0][0]
    assert _gpkg_rows(tmp_path / "bools-250000" / "arrow.gpkg", "select ok, gap, maybe from layer order by fid") == [
        (1, 1, 1), (0, None, None), (1, 0, 0), (0, 1, 1), (1, None, None), (0, 0, 0)]
    info = pyogrio.read_info(tmp_path / "slices-4" / "arrow.gpkg", layer="layer")
    assert info["features"] == 11 and info["geometry_type"] == "Polygon"  # the first slice's type (4 boxes)
    assert pyogrio.read_info(tmp_path / "polygons_and_points-250000" / "arrow.gpkg", layer="layer")[
        "geometry_type"] == "Unknown"
    assert pyogrio.read_info(tmp_path / "no_crs-250000" / "arrow.gpkg", layer="layer")["crs"] is None


def test_gpkg_promotion_to_multi_is_the_shapely_wkb() -> None:
    """A single geometry in a layer of its multi type is written as the WKB of ``multipolygons([g])``
    (the multi header with one part in front of its own WKB), as pyogrio writes it."""
    import shapely

    geoms = np.array([shapely.box(0, 0, 1, 1), shapely.MultiPolygon([shapely.box(2, 2, 3, 3)]), None,
                      shapely.Polygon(), shapely.Polygon([(0, 0), (4, 0), (4, 4)], [[(1, 1), (2, 1), (2, 2)]])],
                     dtype=object)
    wkb, kind = export._gpkg_geometry(geoms, shapely.get_type_id(geoms))
    assert kind == "MultiPolygon"
    want = geoms.copy()
    single = shapely.get_type_id(geoms) == 3
    want[single] = shapely.multipolygons(np.atleast_2d(geoms[single]), axis=0)
    assert wkb.to_pylist() == shapely.to_wkb(want).tolist()
    pts = np.array([shapely.Point(1, 2), shapely.MultiPoint([(0, 0), (1, 1)])], dtype=object)
    wkb, kind = export._gpkg_geometry(pts, shapely.get_type_id(pts))
    assert kind == "MultiPoint" and shapely.from_wkb(wkb.to_pylist())[0].equals_exact(shapely.MultiPoint([(1, 2)]), 0)


@_GPKG_WARNINGS[0]
@_GPKG_WARNINGS[1]
@_GPKG_WARNINGS[2]
def test_gpkg_unusual_layers_take_the_plain_path(tmp_path: Path) -> None:
    import geopandas as gpd
    import shapely

    n = 3
    box = [shapely.box(i, 0, i + 1, 1) for i in range(n)]

    def frame(geoms=box, **cols):
        return gpd.GeoDataFrame(cols, geometry=list(geoms), crs="EPSG:4523")

    named = frame(a=np.arange(n))
    named.index.name = "idx"
    texts = frame(a=np.arange(n))
    texts.index = pd.Index(["x", "y", "z"])
    unusual = {
        "mixed_objects": frame(m=pd.Series([1, "=x", None], dtype=object)),
        "time_zone": frame(t=pd.date_range("2020-01-01", periods=n, tz="Asia/Shanghai")),
        "date_objects": frame(d=pd.Series([pd.Timestamp("2020-01-01").date()] * n, dtype=object)),
        "category": frame(c=pd.Categorical(["a", "=b", None])),
        "z": frame(geoms=[shapely.Point(0, 0, 1), shapely.Point(1, 1, 1), shapely.Point(2, 2, 2)], a=np.arange(n)),
        "named_index": named,
        "text_index": texts,
    }
    for name, g in unusual.items():
        target = tmp_path / f"{name}.gpkg"
        assert not export._arrow_gpkg(g, target, "layer"), name
        assert not target.exists()  # refused before the file is touched
        _assert_same_gpkg(_plain_gpkg({"layer": g}, tmp_path / f"{name}-plain.gpkg"),
                          export.write_gpkg(g, target, "layer"))
    assert _gpkg_rows(tmp_path / "mixed_objects.gpkg", "select m from layer order by fid") == [("1",), ("'=x",), (None,)]


def test_formula_start_is_pythons_startswith() -> None:
    """The first-byte test equals str.startswith(FORMULA_START) on random text (multi-byte characters,
    full-width ＝, slices, nulls), for string and large_string arrays, chunked or not."""
    import pyarrow as pa

    rng = np.random.default_rng(11)
    alphabet = ["=", "+", "-", "@", "\t", "\r", "a", "企", "＝", " ", "'", "\n"]
    cells = ["".join(rng.choice(alphabet, size=rng.integers(0, 4))) for _ in range(2000)]
    cells[3] = cells[9] = None
    arr = pa.array(cells, type=pa.string())
    for a in (arr, arr.slice(7, 1500), pa.array([], type=pa.string()), pa.array([None, None], type=pa.string()),
              pa.array(["", ""], type=pa.string()), pa.nulls(3, pa.string()), arr.cast(pa.large_string()),
              arr.cast(pa.large_string()).slice(5, 100), pa.chunked_array([arr.slice(0, 10), arr.slice(10, 20)])):
        want = [v is not None and v.startswith(export.FORMULA_START) for v in a.to_pylist()]
        assert export.formula_start(a).to_pylist() == want
        if not isinstance(a, pa.ChunkedArray):
            assert export._formula_marks(a).tolist() == want
    assert export._formula_marks(pa.array(["=1", "a", None, "-", "企=", "\r"])).tolist() == [
        True, False, False, True, False, True]
    assert all(len(c) == 1 and ord(c) < 128 for c in export.FORMULA_START)  # what the first-byte test needs


def test_neutralise_arrow_prefixes_formula_starts_only() -> None:
    """The one Arrow formula guard of the CSV and GeoPackage writers: `'` before = + - @ TAB CR."""
    import pyarrow as pa

    cells = ["=1+1", "a=b", None, "-3", "@x", "\tt", "\rr", "", "＝全角"]
    for typ in (pa.string(), pa.large_string()):
        got = export.neutralise_arrow(pa.array(cells, type=typ))
        assert got.type == typ
        assert got.to_pylist() == ["'=1+1", "a=b", None, "'-3", "'@x", "'\tt", "'\rr", "", "＝全角"]
    clean = pa.array(["a", None], type=pa.string())
    assert export.neutralise_arrow(clean) is clean
