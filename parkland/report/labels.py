"""The one Chinese label table: column names, statuses, grades, reason codes.

Map, Excel and report writers take their Chinese (and English) labels from here, nowhere else.
``label(key)`` returns the Chinese label, ``label(key, "en")`` the English one; unknown keys come back
unchanged.
"""

from __future__ import annotations

#: canonical key → (中文, English). Units in full-width brackets as bureaus write them.
LABELS: dict[str, tuple[str, str]] = {
    # identity and land
    "source_row": ("源数据行号", "source row"),
    "file_row": ("文件行号", "row in file"),
    "parcel_id": ("宗地代码", "parcel code"),
    "parcel_ids": ("宗地代码", "parcel codes"),
    "uscc": ("统一社会信用代码", "credit code"),
    "uscc_valid": ("信用代码校验通过", "credit code valid"),
    "name": ("企业名称", "firm"),
    "holder_name": ("权利人", "landholder"),
    "holder_uscc": ("权利人证件号", "landholder credit code"),
    "land_use": ("用途", "land use"),
    "park": ("园区", "park"),
    "county": ("县（市、区）代码", "county code"),
    "area_mu": ("宗地面积（亩，图形）", "area (mu, polygon)"),
    "cert_area_mu": ("证载面积（亩）", "certificate area (mu)"),
    "land_mu": ("用地面积（亩）", "land (mu)"),
    "land_source": ("用地来源", "land source"),
    "firm_count": ("企业数", "firms"),
    "scale": ("企业规模", "size class"),
    "industry_code": ("行业代码", "industry code"),
    "established": ("成立日期", "established"),
    "lon": ("经度", "longitude"),
    "lat": ("纬度", "latitude"),
    "status": ("评价状态", "status"),
    "status_reason": ("状态说明", "status reason"),
    # figures
    "revenue_wan": ("营业收入（万元）", "revenue (10k yuan)"),
    "output_wan": ("工业总产值（万元）", "gross output (10k yuan)"),
    "tax_wan": ("税收（万元）", "tax (10k yuan)"),
    "value_added_wan": ("工业增加值（万元）", "value added (10k yuan)"),
    "energy_tce": ("综合能耗（吨标准煤）", "energy (tce)"),
    "electricity_10k_kwh": ("用电量（万千瓦时）", "electricity (10k kWh)"),
    "emissions_t": ("主要污染物排放量（吨）", "emissions (t)"),
    "employees": ("年平均职工人数（人）", "employees"),
    "rd_wan": ("研发经费支出（万元）", "R&D (10k yuan)"),
    "reported_land_mu": ("自报用地面积（亩）", "reported land (mu)"),
    "occupied_m2": ("租用面积（平方米）", "occupied floor (m²)"),
    "land_share": ("用地比例", "land share"),
    # indicators
    "tax_per_mu": ("亩均税收（万元/亩）", "tax per mu (10k yuan/mu)"),
    "revenue_per_mu": ("亩均营业收入（万元/亩）", "revenue per mu (10k yuan/mu)"),
    "output_per_mu": ("亩均产值（万元/亩）", "output per mu (10k yuan/mu)"),
    "value_added_per_mu": ("亩均增加值（万元/亩）", "value added per mu (10k yuan/mu)"),
    "revenue_per_employee": ("人均营业收入（万元/人）", "revenue per employee (10k yuan)"),
    "labour_productivity": ("全员劳动生产率（万元/人）", "labour productivity (10k yuan)"),
    "va_per_energy": ("单位能耗增加值（万元/吨标准煤）", "value added per tce (10k yuan)"),
    "revenue_per_energy": ("单位能耗营业收入（万元/吨标准煤）", "revenue per tce (10k yuan)"),
    "va_per_emission": ("单位排放增加值（万元/吨）", "value added per t emitted (10k yuan)"),
    "tax_per_electricity": ("单位电耗税收（万元/万千瓦时）", "tax per 10k kWh (10k yuan)"),
    "rd_intensity": ("研发投入强度", "R&D intensity"),
    # grading
    "score": ("综合得分", "score"),
    "grade": ("评价等级", "grade"),
    "track": ("评价类别", "track"),
    "rank": ("排名", "rank"),
    # land diagnosis
    "building_coverage": ("建筑系数", "building coverage"),
    "far": ("容积率", "floor area ratio"),
    "floor_area_m2": ("建筑面积（平方米）", "floor area (m²)"),
    "idle": ("闲置土地", "idle land"),
    "vacant": ("空置", "vacant"),
    "stopped": ("停产", "stopped"),
    "low_efficiency": ("低效用地", "low-efficiency land"),
    "flag_reasons": ("认定原因", "reasons"),
    # cleanup
    "reasons": ("认定原因", "reasons"),
    "cumulative_mu": ("累计面积（亩）", "cumulative (mu)"),
    "selected": ("是否纳入", "selected"),
    # reconciliation
    "source": ("数据来源", "source"),
    "key": ("记录标识", "key"),
    "column": ("字段", "column"),
    "problem_code": ("问题代码", "problem code"),
    "problem": ("问题", "problem"),
    "action": ("处理", "action"),
    # ---- map (report/maps.py): layer, legend and control texts ----
    "map_title": ("亩均效益地图", "land efficiency map"),
    "map_index_title": ("各园区亩均效益地图", "land efficiency maps by park"),
    "map_basemap_none": ("无底图", "no base map"),
    "map_basemap_tianditu": ("天地图（矢量）", "Tianditu (vector)"),
    "map_basemap_gaode": ("高德地图", "Amap"),
    "map_basemap_osm": ("OpenStreetMap", "OpenStreetMap"),
    "map_basemap_custom": ("内网底图", "intranet base map"),
    "map_basemap_raster": ("影像底图", "raster base map"),
    "map_layer_grade": ("宗地评价等级", "parcel grade"),
    "map_layer_cleanup": ("低效用地清理", "cleanup candidates"),
    "map_layer_parks": ("园区边界", "park boundaries"),
    "map_layer_parks_hull": ("园区范围（宗地凸包）", "park extent (hull of its parcels)"),
    "map_layer_firms_no_land": ("无用地企业", "firms without land"),
    "map_ungraded": ("未评价", "not graded"),
    "map_no_data": ("无数据", "no data"),
    "map_search": ("搜索企业名称、信用代码或宗地代码", "search firm name, credit code or parcel code"),
    "map_no_match": ("未找到", "no match"),
    "map_firms": ("宗地上的企业", "firms on this parcel"),
    "map_flags": ("土地认定", "land flags"),
    "map_selected": ("已纳入清理", "selected for cleanup"),
    "map_candidate": ("清理候选（未纳入）", "candidate, not selected"),
    "map_cleanup_rank": ("清理排序", "cleanup rank"),
    "map_part_suffix": ("得分", "points"),
    "map_score_parts": ("分项得分", "score parts"),
    "map_legend": ("图例", "legend"),
    "map_parcels": ("宗地数", "parcels"),
    "map_public_note": ("公开版：不含税收、营收与得分", "public version: no tax, revenue or scores"),
    # ---- database tables (report/db.py): table and column comments ----
    "db_table_parcels": ("宗地评价结果", "parcel assessment"),
    "db_table_firms": ("企业亩均效益评价结果", "firm assessment"),
    "db_table_reconciliation": ("数据核对记录（剔除、修复或存疑的输入行）", "reconciliation: dropped, repaired or suspicious input rows"),
    "db_table_cleanup": ("低效用地清理候选宗地", "cleanup candidate parcels"),
    "db_table_parks": ("园区汇总", "park summary"),
    "db_table_pairs": ("企业与宗地对应关系", "firm–parcel links"),
    "db_table_runs": ("parkland 运行记录（每次写入追加一行）", "parkland runs (one row appended per write)"),
    "db_table_other": ("parkland 输出表", "parkland output table"),
    "db_run_id": ("运行编号", "run id"),
    "db_run_at": ("运行时间", "run time"),
    "db_data_year": ("数据年度", "data year"),
    "db_policy": ("评价政策", "policy"),
    "db_policy_hash": ("政策文件哈希（SHA-256）", "policy hash (SHA-256)"),
    "db_version": ("parkland 版本", "parkland version"),
    "db_counts": ("统计数（JSON）", "counts (JSON)"),
    "db_row_counts": ("各表写入行数（JSON）", "rows written per table (JSON)"),
    "db_tables": ("本次写入的表", "tables written"),
    "db_info": ("其他运行信息（JSON，不含密码）", "other run information (JSON, no passwords)"),
    "db_geometry": ("图形", "geometry"),
    "db_original_name": ("原列名", "original column name"),
    "db_raster_mean": ("栅格均值", "raster mean"),
    "problem_zh": ("问题（中文）", "problem (Chinese)"),
    "problem_en": ("问题（英文）", "problem (English)"),
    "geometry": ("宗地图形", "geometry"),
    # ---- scoring (scoring/grades.py, explain.py, yoy.py, overrides.py) ----
    "part_tax_per_mu": ("亩均税收得分", "tax per mu (points)"),
    "part_revenue_per_mu": ("亩均营业收入得分", "revenue per mu (points)"),
    "part_output_per_mu": ("亩均产值得分", "output per mu (points)"),
    "part_value_added_per_mu": ("亩均增加值得分", "value added per mu (points)"),
    "part_revenue_per_employee": ("人均营业收入得分", "revenue per employee (points)"),
    "part_labour_productivity": ("全员劳动生产率得分", "labour productivity (points)"),
    "part_va_per_energy": ("单位能耗增加值得分", "value added per tce (points)"),
    "part_revenue_per_energy": ("单位能耗营业收入得分", "revenue per tce (points)"),
    "part_va_per_emission": ("单位排放增加值得分", "value added per t emitted (points)"),
    "part_tax_per_electricity": ("单位电耗税收得分", "tax per 10k kWh (points)"),
    "part_rd_intensity": ("研发投入强度得分", "R&D intensity (points)"),
    "benchmark_tax_per_mu": ("亩均税收基准值", "tax per mu benchmark"),
    "benchmark_revenue_per_mu": ("亩均营业收入基准值", "revenue per mu benchmark"),
    "benchmark_output_per_mu": ("亩均产值基准值", "output per mu benchmark"),
    "benchmark_value_added_per_mu": ("亩均增加值基准值", "value added per mu benchmark"),
    "benchmark_revenue_per_employee": ("人均营业收入基准值", "revenue per employee benchmark"),
    "benchmark_labour_productivity": ("全员劳动生产率基准值", "labour productivity benchmark"),
    "benchmark_va_per_energy": ("单位能耗增加值基准值", "value added per tce benchmark"),
    "benchmark_revenue_per_energy": ("单位能耗营业收入基准值", "revenue per tce benchmark"),
    "benchmark_va_per_emission": ("单位排放增加值基准值", "value added per t emitted benchmark"),
    "benchmark_tax_per_electricity": ("单位电耗税收基准值", "tax per 10k kWh benchmark"),
    "benchmark_rd_intensity": ("研发投入强度基准值", "R&D intensity benchmark"),
    "weight_factor": ("权重折算系数", "re-weighting factor"),
    "bonus": ("加分", "bonus points"),
    "penalty": ("减分", "penalty points"),
    "veto": ("一票否决事项", "veto"),
    "consequence_electricity_surcharge": ("差别化电价加价（元）", "electricity surcharge (yuan)"),
    "consequence_land_tax_relief_pct": ("城镇土地使用税减免比例（%）", "land-use tax relief (%)"),
    "next_grade": ("上一档等级", "next grade"),
    "gap_score": ("距上一档差分", "points to the next grade"),
    "gap_tax_per_mu": ("升档需增亩均税收（万元/亩）", "tax per mu needed for the next grade (10k yuan/mu)"),
    "gap_revenue_per_mu": ("升档需增亩均营收（万元/亩）",
                           "revenue per mu needed for the next grade (10k yuan/mu)"),
    "grade_previous": ("上年等级", "last year's grade"),
    "score_previous": ("上年得分", "last year's score"),
    "status_previous": ("上年评价状态", "last year's status"),
    "grade_change": ("等级变化", "grade change"),
    "grade_direction": ("升降", "direction"),
    "grade_override": ("复核定级", "grade set by review"),
    "override_exempt": ("复核免评", "exempt by review"),
    "override_exempt_reason": ("复核免评理由", "review exemption reason"),
    "kind": ("复核类型", "override type"),
    "field": ("字段", "field"),
    "old": ("原值", "old value"),
    "new": ("新值", "new value"),
    "reason": ("理由", "reason"),
    "reference": ("文号", "reference"),
    "override_row": ("复核表行号", "override row"),
    "grade_A": ("A类企业数", "A firms"),
    "grade_B": ("B类企业数", "B firms"),
    "grade_C": ("C类企业数", "C firms"),
    "grade_D": ("D类企业数", "D firms"),
    "grade_T": ("T类企业数", "T firms"),
    "graded_count": ("参评企业数", "graded firms"),
    "parcel_count": ("宗地数", "parcels"),
    "firm_land_mu": ("企业用地（亩）", "firms' land (mu)"),
    # --- land diagnosis (geo/buildings.py, geo/zonal.py, land.py) ---
    "footprint_m2": ("建筑基底面积（平方米）", "building footprint (m²)"),
    "idle_floor_m2": ("闲置厂房面积（平方米）", "idle floor (m²)"),
    "building_count": ("建筑栋数", "buildings"),
    "flag_detail": ("认定依据", "basis of the flags"),
    "idle_years": ("闲置年限（年）", "years idle"),
    "idle_fee_due": ("应缴闲置费", "idle-land fee due"),
    "reclaim_warning": ("满两年可收回", "may be reclaimed (two years)"),
    "huzhou_kind": ("湖州五类", "Huzhou kind"),
    "control_code_2002": ("控制指标行业（GB/T 4754-2002）", "control industry (GB/T 4754-2002)"),
    "control_source": ("行业来源", "industry taken from"),
    "far_min": ("容积率控制指标", "minimum FAR"),
    "coverage_min": ("建筑系数控制指标", "minimum building coverage"),
    "developed_share_used": ("已开发比例", "developed share"),
    "investment_share": ("投资完成比例", "investment share"),
    "idle_basis": ("闲置依据", "idle because"),
    "parcel_row": ("宗地源数据行号", "parcel source row"),
}

# --- cleanup plan and lists (plan.py, report/lists.py) ---
LABELS.update({
    "tier": ("优先档次", "priority tier"),
    "operating_firms": ("在营企业数", "operating firms"),
    "priority_score": ("优先分值", "priority score"),
    "shortfall_ratio": ("低于标准程度", "shortfall below the threshold"),
    "cumulative_m2": ("累计面积（平方米）", "cumulative (m²)"),
    "reasons_text": ("认定原因说明", "reasons explained"),
    "use": ("建筑用途", "building use"),
    "state": ("使用状态", "state of use"),
    "idle_basis": ("认定依据", "basis"),
    "parcel_row": ("宗地源数据行号", "parcel source row"),
})

#: status values
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "graded": ("已评价", "graded"),
    "exempt": ("免评（T类）", "exempt (T)"),
    "not_graded": ("不参评", "not graded"),
    "no_land": ("无用地", "no land"),
    "parcel_not_found": ("宗地未找到", "parcel not found"),
}

LAND_SOURCE_LABELS: dict[str, tuple[str, str]] = {
    "polygon": ("宗地图形", "parcel polygon"),
    "certificate": ("证载面积", "certificate area"),
    "reported": ("企业自报", "reported by the firm"),
}

ACTION_LABELS: dict[str, tuple[str, str]] = {
    "dropped": ("已剔除", "dropped"),
    "repaired": ("已修复", "repaired"),
    "kept": ("保留并列出", "kept"),
}

#: grades (Zhejiang-style names; a policy may rename them)
GRADE_LABELS: dict[str, tuple[str, str]] = {
    "A": ("A类（优先发展）", "A (priority)"),
    "B": ("B类（提升发展）", "B (improve)"),
    "C": ("C类（调整转型）", "C (transform)"),
    "D": ("D类（整治淘汰）", "D (rectify or exit)"),
    "T": ("T类（免评）", "T (exempt)"),
}

#: fixed grade colours, used by every map and chart
GRADE_COLORS: dict[str, str] = {
    "A": "#1a9850",
    "B": "#91cf60",
    "C": "#fc8d59",
    "D": "#d73027",
    "T": "#9e9e9e",
}

#: reason codes in flag_reasons / reasons
REASON_LABELS: dict[str, tuple[str, str]] = {
    "IDLE_NOT_STARTED": ("闲置：超过约定开工日期满一年未动工", "idle: not started a year after the agreed start"),
    "IDLE_STOPPED": ("闲置：已动工但开发不足且停工满一年", "idle: started, under-developed and stopped for a year"),
    "IDLE_RECLAIM": ("闲置满两年，可无偿收回", "idle for two years: may be reclaimed"),
    "VACANT": ("空置：无企业、无建筑", "vacant: no firm, no building"),
    "VACANT_RASTER": ("空置：遥感显示未利用", "vacant: remote sensing shows no use"),
    "STOPPED": ("停产：营收、税收、用电均为零", "stopped: zero revenue, tax and electricity"),
    "STOPPED_DROP": ("停产：较上年大幅下降", "stopped: steep drop against last year"),
    "LOW_TAX": ("亩均税收低于标准", "tax per mu below the threshold"),
    "LOW_REVENUE": ("亩均营收低于标准", "revenue per mu below the threshold"),
    "LOW_TAX_PARK": ("亩均税收低于园区平均的一半", "tax per mu below half the park average"),
    "LOW_FAR": ("容积率低于控制指标", "FAR below the control indicator"),
    "LOW_COVERAGE": ("建筑系数低于控制指标", "building coverage below the control indicator"),
    "GRADE_D": ("评价为D类", "graded D"),
    "OVERDUE_COMPLETION": ("超过约定竣工日期满两年", "two years past the agreed completion"),
    "HUZHOU_APPROVED_NOT_SUPPLIED": ("批而未供", "approved, not supplied"),
    "HUZHOU_SUPPLIED_NOT_USED": ("供而未用", "supplied, not used"),
    "HUZHOU_USED_NOT_FULL": ("用而未尽", "used, not fully"),
    "HUZHOU_BUILT_NOT_OPERATING": ("建而未投", "built, not operating"),
    "HUZHOU_OPERATING_BELOW_STANDARD": ("投而未达标", "operating below standard"),
}


def label(key: str, lang: str = "zh") -> str:
    """Chinese (or English) label of a canonical column, status, grade or reason code."""
    for table in (LABELS, STATUS_LABELS, REASON_LABELS, GRADE_LABELS, LAND_SOURCE_LABELS, ACTION_LABELS):
        if key in table:
            return table[key][1 if lang == "en" else 0]
    return key


def reasons_text(codes: str, lang: str = "zh", sep: str = "；") -> str:
    """'LOW_TAX;LOW_FAR' → '亩均税收低于标准；容积率低于控制指标'."""
    if not codes:
        return ""
    return sep.join(label(c, lang) for c in str(codes).split(";") if c)
