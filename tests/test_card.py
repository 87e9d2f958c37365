"""Firm report card (simulator.card): the lift computation by hand, then a real small run.

The layout tests at the end load cards in headless Chromium (Playwright) at 1280 px
and at A4 print width (the ``browser`` fixture of conftest.py: skipped when Playwright or
/usr/bin/chromium is absent, failed instead under CI).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.card import (
    FORMULAS,
    IndicatorTerm,
    class_lift,
    read_firm_years,
    required_rise,
    score_terms,
    uniform_rise,
    write_card,
)
from simulator.cli import main
from simulator.evaluation import EvaluationInput, evaluate
from simulator.experiment import run_scenario
from simulator.firms import CLASS_LABELS
from simulator.report import fmt
from simulator.reporting.card import MAX_YEARS_PER_TABLE, year_blocks
from simulator.scenario import (
    POLLUTANTS,
    BonusSpec,
    EvaluationSpec,
    ScenarioError,
    apply_changes,
    load_scenario,
)

SMALL = Path(__file__).parent / "scenarios" / "small.yaml"


# ---------------------------------------------------------------- helpers


class _Tables(HTMLParser):
    """Every <table> of a page as a list of rows of cell texts (a label's unit left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.captions: list[str] = []
        self.units: dict[str, str] = {}
        self._cell: list[str] | None = None
        self._unit: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
            self.captions.append("")
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "span" and ("class", "unit") in attrs:
            self._unit = []
        elif tag == "caption":
            self._caption = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "span" and self._unit is not None:
            self.units["".join(self._cell).strip()] = "".join(self._unit).strip()
            self._unit = None
        elif tag == "caption":
            self.captions[-1] = "".join(self._caption).strip()
            self._caption = None

    def handle_data(self, data):
        if self._unit is not None:
            self._unit.append(data)
        elif self._cell is not None:
            self._cell.append(data)
        elif self._caption is not None:
            self._caption.append(data)


def _parsed(path: Path) -> _Tables:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _tables(path: Path) -> list[list[list[str]]]:
    return _parsed(path).tables


def _row(tables: list[list[list[str]]], label: str, *, after: str | None = None) -> list[str]:
    """The first table row whose first cell is ``label`` (in a table with a cell ``after``)."""
    for table in tables:
        if after is not None and not any(after in r for r in table):
            continue
        for row in table:
            if row and row[0] == label:
                return row
    raise AssertionError(f"no row {label!r}")


def _evaluation_input(year: pd.DataFrame, *, bonus: np.ndarray | None = None,
                      changes: dict[str, np.ndarray] | None = None) -> EvaluationInput:
    """Rebuild one year's evaluation input from firms.parquet rows.

    The snapshot has no high-tech/listed/brand flags, only their points in the
    score, so ``bonus`` is passed as the high-tech "flag" with a 1-point bonus.
    """
    n = len(year)
    col = {c: year[c].to_numpy(dtype=float) for c in (
        "tax_wan_yuan", "va_wan_yuan", "revenue_wan_yuan", "rd_wan_yuan", "land_mu",
        "employees", "energy_tce", "electricity_kwh")}
    col.update(changes or {})
    scale = year["scale"].astype(str).to_numpy()
    return EvaluationInput(
        firm_id=year["firm_id"].to_numpy(), tax_wan_yuan=col["tax_wan_yuan"],
        va_wan_yuan=col["va_wan_yuan"], revenue_wan_yuan=col["revenue_wan_yuan"],
        rd_wan_yuan=col["rd_wan_yuan"], land_mu=col["land_mu"], employees=col["employees"],
        energy_tce=col["energy_tce"], electricity_kwh=col["electricity_kwh"],
        emissions_t=np.column_stack([year[f"{p}_t"].to_numpy(dtype=float) for p in POLLUTANTS]),
        above_scale=scale == "above", is_services=scale == "services",
        sector=year["sector"].cat.codes.to_numpy(), region=year["region"].cat.codes.to_numpy(),
        park=year["park"].to_numpy(),
        high_tech=np.zeros(n) if bonus is None else bonus, listed=np.zeros(n, dtype=bool),
        brand=np.zeros(n, dtype=bool), vetoed=year["vetoed"].to_numpy(),
        protected=np.zeros(n, dtype=bool))


def _hand_table(inp: EvaluationInput, spec: EvaluationSpec, *, year: int = 2020) -> pd.DataFrame:
    """A firms.parquet-like year table of hand-made firms, scored by simulator.evaluation."""
    result = evaluate(inp, params=spec)
    scale = np.where(inp.is_services, "services", np.where(inp.above_scale, "above", "below"))
    table = pd.DataFrame({
        "year": year, "firm_id": inp.firm_id, "scale": scale,
        "region": np.array(["county", "city"])[inp.region], "park": inp.park,
        "sector": np.array(["textiles", "chemicals"])[inp.sector],
        "score": result.score, "rank": result.rank,
        "group_size": result.group_size,
        "class": [CLASS_LABELS[k] for k in result.klass], "vetoed": inp.vetoed,
        "tax_wan_yuan": inp.tax_wan_yuan, "va_wan_yuan": inp.va_wan_yuan,
        "revenue_wan_yuan": inp.revenue_wan_yuan, "rd_wan_yuan": inp.rd_wan_yuan,
        "land_mu": inp.land_mu, "employees": inp.employees, "energy_tce": inp.energy_tce,
        "electricity_kwh": inp.electricity_kwh})
    for i, p in enumerate(POLLUTANTS):
        table[f"{p}_t"] = inp.emissions_t[:, i]
    return table


def _below_scale_firms(tax: list[float], land: list[float], kwh: list[float], *,
                       vetoed: list[bool] | None = None, park: list[int] | None = None,
                       sector: list[int] | None = None,
                       region: list[int] | None = None) -> EvaluationInput:
    n = len(tax)
    zeros, no = np.zeros(n), np.zeros(n, dtype=bool)

    def codes(values: list[int] | None) -> np.ndarray:
        return np.zeros(n, dtype=int) if values is None else np.array(values)

    return EvaluationInput(
        firm_id=np.arange(1, n + 1), tax_wan_yuan=np.array(tax, dtype=float),
        va_wan_yuan=np.full(n, 100.0), revenue_wan_yuan=np.full(n, 1000.0), rd_wan_yuan=zeros,
        land_mu=np.array(land, dtype=float), employees=np.full(n, 10.0),
        energy_tce=np.full(n, 10.0), electricity_kwh=np.array(kwh, dtype=float),
        emissions_t=np.ones((n, 4)), above_scale=no, is_services=no,
        sector=codes(sector), region=codes(region), park=codes(park),
        high_tech=no, listed=no, brand=no,
        vetoed=no if vetoed is None else np.array(vetoed), protected=no)


def _thresholds_spec(**changes) -> EvaluationSpec:
    data = {"weights_below_scale": {"tax_per_mu": 60, "tax_per_kwh": 40},
            "benchmark": "fixed",
            "fixed_benchmarks": {"above_scale": {"tax_per_mu": 1, "va_per_mu": 1,
                                                 "va_per_tce": 1, "va_per_emission": 1,
                                                 "labour_productivity": 1, "rd_share": 1},
                                 "below_scale": {"tax_per_mu": 10, "tax_per_kwh": 5}},
            "evaluate_services": False,
            "classification": {"method": "thresholds",
                               "thresholds": {"A": 120, "B": 90, "C": 60}}}
    data.update(changes)
    return EvaluationSpec.model_validate(data)


# ---------------------------------------------------------------- by hand


def test_required_rise_with_fixed_benchmarks_by_hand():
    # Weights 60/40, benchmarks 10 and 5; the firm: tax 80 on 10 mu (8/mu), 5 yuan/kWh.
    # Score 60*0.8 + 40*1.0 = 88: class C; B needs 90, so 2 points = 2 units of s.
    # tax/mu alone: s 48 -> 50, x/b = 50/60, x = 8.333; tax/kWh alone: 40 -> 42, x = 5.25.
    spec = _thresholds_spec()
    table = _hand_table(_below_scale_firms([80, 30], [10, 10], [160_000, 100_000]), spec)
    lift = class_lift(table, 1, spec)
    assert (lift.klass, lift.next_class, lift.status) == ("C", "B", "ok")
    assert lift.score == pytest.approx(88.0)
    assert lift.target_score == 90.0
    assert lift.gap == pytest.approx(2.0)
    by_name = {x.indicator: x for x in lift.lifts}
    assert by_name["tax_per_mu"].required == pytest.approx(25 / 3)
    assert by_name["tax_per_mu"].rise == pytest.approx(1 / 3)
    assert by_name["tax_per_mu"].rise_pct == pytest.approx(100 / 24)
    assert by_name["tax_per_kwh"].required == pytest.approx(5.25)
    assert by_name["tax_per_kwh"].rise_pct == pytest.approx(5.0)
    # Both together: 48k + 40k = 90 -> k = 90/88, a 2.27% rise of tax.
    assert lift.uniform_rise_pct == pytest.approx(100 * (90 / 88 - 1), rel=1e-9)


def test_an_indicator_pushed_past_its_cap_saturates():
    # Cap 1.1: tax/kWh (already at the benchmark) can add at most 40*0.1 = 4 points.
    spec = _thresholds_spec(indicator_cap=1.1)
    table = _hand_table(_below_scale_firms([50, 30], [10, 10], [100_000, 100_000]), spec)
    lift = class_lift(table, 1, spec)  # 60*0.5 + 40*1 = 70: C, B needs 20 more points
    assert lift.score == pytest.approx(70.0)
    assert lift.gap == pytest.approx(20.0)
    by_name = {x.indicator: x for x in lift.lifts}
    assert by_name["tax_per_kwh"].status == "saturated"
    assert by_name["tax_per_kwh"].max_points == pytest.approx(4.0)
    assert math.isnan(by_name["tax_per_kwh"].required)
    assert by_name["tax_per_mu"].status == "ok"
    assert by_name["tax_per_mu"].required == pytest.approx(10 * 50 / 60)  # s 30 -> 50


def test_group_benchmark_rises_with_the_firms_own_numerator():
    # One indicator (tax/mu, weight 100), benchmark = group total tax / total land.
    # Land 10, 10, 20 mu; tax 50, 100, 250: N = 400, D = 40, b = 10; firm 1 scores 50 (D).
    # C needs 60: D (n + δ) / (d (N + δ)) = 0.6 -> δ = (0.6*10*400 - 40*50) / (40 - 6) = 400/34.
    spec = _thresholds_spec(weights_below_scale={"tax_per_mu": 100, "tax_per_kwh": 0},
                            benchmark="group_mean")
    inp = _below_scale_firms([50, 100, 250], [10, 10, 20], [1e5, 1e5, 1e5])
    table = _hand_table(inp, spec)
    lift = class_lift(table, 1, spec)
    assert (lift.klass, lift.next_class, lift.score) == ("D", "C", pytest.approx(50.0))
    (term,) = lift.terms
    assert (term.group_numerator, term.group_denominator, term.benchmark) == (400, 40, 10)
    delta = 400 / 34
    (item,) = lift.lifts
    assert item.required == pytest.approx((50 + delta) / 10)
    # Re-scored by the evaluation itself, the new tax gives exactly 60 points: class C.
    tax = inp.tax_wan_yuan.copy()
    tax[0] += delta
    raised = evaluate(_below_scale_firms(list(tax), [10, 10, 20], [1e5] * 3), params=spec)
    assert raised.score[0] == pytest.approx(60.0)
    assert CLASS_LABELS[raised.klass[0]] == "C"


def test_own_weight_in_the_benchmark_can_make_the_target_unreachable():
    # x/b = D (n + δ) / (d (N + δ)) never exceeds D/d = 1.25: a ratio of 1.5 is out of reach.
    term = IndicatorTerm("tax_per_mu", 8.0, 100.0, 80.0, 10.0, 320.0, 40.0, 1.0,
                         400.0, 50.0, True)
    item = required_rise(term, points_needed=70.0, total_weight=100.0, cap=2.0)
    assert item.status == "benchmark"
    assert math.isnan(item.required)


def test_rank_shares_target_the_last_firm_of_the_next_class():
    # 10 firms, shares 20/55/20/5: A ranks 1-2, B 3-8, C 9-10 (D rounds to none).
    spec = _thresholds_spec(classification={"method": "shares"})
    tax = [100, 95, 90, 85, 80, 75, 70, 65, 60, 55]
    table = _hand_table(_below_scale_firms(tax, [10] * 10, [200_000] * 10), spec)
    lift = class_lift(table, 9, spec)
    assert (lift.klass, lift.rank, lift.next_class) == ("C", 9, "B")
    assert (lift.target_rank, lift.target_firm_id) == (8, 8)
    assert lift.target_score == pytest.approx(float(table.loc[table.firm_id == 8, "score"].iloc[0]))
    # Score = 60 (tax/10)/10 + 40 (tax/20)/5 = tax: firm 9 scores 60, firm 8 65, 5 points more.
    # tax/mu alone: s from 36 to 41, so x/b = 41/60 and x = 6.833.
    assert lift.gap == pytest.approx(5.0)
    by_name = {x.indicator: x for x in lift.lifts}
    assert by_name["tax_per_mu"].required == pytest.approx(10 * 41 / 60)


def test_groups_by_park_and_sector_benchmarks_are_rebuilt_like_the_evaluation():
    # 24 firms in 2 regions x 2 parks x 2 sectors; ranked by (region, park), benchmarked
    # within sector: every score is rebuilt with no bonus left over, and the reported
    # tax rise re-scored by the evaluation reaches the next class's target score.
    rng = np.random.default_rng(5)
    n = 24
    kwargs = dict(park=list(np.arange(n) % 2), sector=list((np.arange(n) // 2) % 2),
                  region=list((np.arange(n) // 4) % 2))
    tax, land = list(rng.uniform(20, 200, n)), list(rng.uniform(5, 40, n))
    kwh = list(rng.uniform(1e5, 1e6, n))
    spec = _thresholds_spec(group_by=["park"], benchmark="sector_mean",
                            classification={"method": "shares"})
    inp = _below_scale_firms(tax, land, kwh, **kwargs)
    table = _hand_table(inp, spec)
    lifted = 0
    for pos, fid in enumerate(table["firm_id"]):
        lift = class_lift(table, int(fid), spec)
        assert lift.bonus == pytest.approx(0.0, abs=1e-9)
        if lift.status != "ok":
            continue
        assert lift.uniform_rise_pct > 0
        raised = list(tax)
        raised[pos] *= 1 + lift.uniform_rise_pct / 100
        score = evaluate(_below_scale_firms(raised, land, kwh, **kwargs), params=spec).score
        assert score[pos] == pytest.approx(lift.target_score, rel=1e-9)
        lifted += 1
    assert lifted >= 10


def test_vetoed_firm_cannot_be_lifted_into_a_or_b():
    spec = _thresholds_spec()
    inp = _below_scale_firms([80, 30], [10, 10], [160_000, 100_000], vetoed=[True, False])
    lift = class_lift(_hand_table(inp, spec), 1, spec)
    assert (lift.klass, lift.next_class, lift.status) == ("C", "B", "veto")
    assert lift.lifts == ()


def test_firm_in_a_and_unrated_firm_have_nothing_to_lift():
    spec = _thresholds_spec()
    inp = _below_scale_firms([150, 30], [10, 2], [160_000, 100_000])  # firm 2: 2 mu, out of scope
    table = _hand_table(inp, spec)
    assert class_lift(table, 1, spec).status == "top"
    assert class_lift(table, 2, spec).status == "unrated"
    assert score_terms(table, 2, spec) == ()


def test_uniform_rise_is_nan_when_every_indicator_is_capped():
    term = IndicatorTerm("tax_per_mu", 20.0, 100.0, 200.0, 10.0, 200.0, 10.0, 1.0,
                         math.nan, math.nan, True)
    assert math.isnan(uniform_rise((term,), points_needed=1.0, total_weight=100.0, cap=2.0))
    assert uniform_rise((term,), points_needed=0.0, total_weight=100.0, cap=2.0) == 0.0


# ---------------------------------------------------------------- a real run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = apply_changes(load_scenario(SMALL), {
        "population.n_industrial": 160, "population.n_services": 40, "run.end": "2019-12"})
    return run_scenario(scenario, out=tmp_path_factory.mktemp("card"), figures=False)


@pytest.fixture(scope="module")
def firms(run_dir: Path) -> pd.DataFrame:
    return read_firm_years(run_dir)


@pytest.fixture(scope="module")
def spec(run_dir: Path) -> EvaluationSpec:
    return load_scenario(run_dir / "scenario.yaml").evaluation


@pytest.fixture(scope="module")
def last_year(firms: pd.DataFrame) -> pd.DataFrame:
    return firms[firms["year"] == firms["year"].max()].reset_index(drop=True)


def test_formulas_give_the_indicators_in_firms_parquet(firms: pd.DataFrame,
                                                       spec: EvaluationSpec):
    weights = dict(zip(POLLUTANTS, spec.emission_weights.as_tuple(), strict=True))
    emissions = sum(w * firms[f"{p}_t"] for p, w in weights.items())
    for name, (numer, denom, scale) in FORMULAS.items():
        shown = firms[f"ind_{name}"]
        d = 1.0 if denom is None else (emissions if denom == "weighted_emissions_t"
                                     else firms[denom])
        mine = scale * firms[numer] / d
        assert shown.notna().any()
        np.testing.assert_allclose(mine[shown.notna()], shown[shown.notna()], rtol=1e-12)


def test_score_terms_rebuild_every_score(last_year: pd.DataFrame, spec: EvaluationSpec):
    bonuses = {0, 2, 3, 5, 7, 8, 10}  # subsets of high-tech 5, listed 3, brand 2
    rated = last_year[last_year["rank"] > 0]
    assert len(rated) > 100
    for fid in rated["firm_id"]:
        lift = class_lift(last_year, int(fid), spec)
        assert min(abs(lift.bonus - b) for b in bonuses) < 1e-6, (fid, lift.bonus)


def test_evaluation_input_rebuilt_from_firms_parquet_reproduces_the_scores(
        last_year: pd.DataFrame, spec: EvaluationSpec):
    base = evaluate(_evaluation_input(last_year), params=spec)
    bonus = np.nan_to_num(last_year["score"].to_numpy() - base.score)
    one_point = spec.model_copy(update={"bonus": BonusSpec(high_tech=1, listed=0, brand=0)})
    again = evaluate(_evaluation_input(last_year, bonus=bonus), params=one_point)
    np.testing.assert_allclose(again.score, last_year["score"], rtol=1e-12)
    np.testing.assert_array_equal(again.rank, last_year["rank"])


def test_raising_an_indicator_by_the_reported_rise_lifts_the_class(last_year: pd.DataFrame,
                                                                   spec: EvaluationSpec):
    base = evaluate(_evaluation_input(last_year), params=spec)
    bonus = np.nan_to_num(last_year["score"].to_numpy() - base.score)
    one_point = spec.model_copy(update={"bonus": BonusSpec(high_tech=1, listed=0, brand=0)})
    rebuilt = evaluate(_evaluation_input(last_year, bonus=bonus), params=one_point)
    # Start-ups and firms newly above scale are kept out of D (not in the snapshot).
    protected = ((last_year["class"].astype(str) == "C").to_numpy()
                 & (rebuilt.klass == CLASS_LABELS.index("D")))

    def rescore(pos: int, changes: dict[str, np.ndarray]) -> tuple[str, float]:
        inp = _evaluation_input(last_year, bonus=bonus, changes=changes)
        result = evaluate(dataclasses.replace(inp, protected=protected), params=one_point)
        return CLASS_LABELS[result.klass[pos]], float(result.score[pos])

    assert [rescore(pos, {})[0] for pos in range(len(last_year))] == list(
        last_year["class"].astype(str))
    # The firm's own score, re-scored after the rise, reaches the target exactly; the
    # target firm's score can only fall with the higher benchmark, so the class is reached.
    checked = {"single": 0, "together": 0}
    for pos, fid in enumerate(last_year["firm_id"]):
        lift = class_lift(last_year, int(fid), spec)
        if lift.status != "ok" or not all(t.has for t in lift.terms):
            continue
        for item in lift.lifts:
            # Numerators used by one indicator only, so "that indicator alone" is exact.
            if item.status != "ok" or item.indicator not in ("tax_per_mu", "rd_share"):
                continue
            if lift.tier == 1 and item.indicator == "tax_per_mu":
                continue  # below scale, tax also feeds tax per kWh
            numer, denom, scale = FORMULAS[item.indicator]
            column = last_year[numer].to_numpy(dtype=float).copy()
            column[pos] += item.rise * last_year[denom].to_numpy(dtype=float)[pos] / scale
            klass, score = rescore(pos, {numer: column})
            assert score == pytest.approx(lift.target_score, rel=1e-9), (fid, item)
            column[pos] *= 1 + 1e-9
            assert rescore(pos, {numer: column})[0] == lift.next_class, (fid, item)
            checked["single"] += 1
        if not math.isnan(lift.uniform_rise_pct):
            changes = {}
            for numer in {FORMULAS[t.name][0] for t in lift.terms}:
                column = last_year[numer].to_numpy(dtype=float).copy()
                column[pos] *= 1 + lift.uniform_rise_pct / 100
                changes[numer] = column
            klass, score = rescore(pos, changes)
            assert score == pytest.approx(lift.target_score, rel=1e-9), fid
            assert klass == lift.next_class or score > lift.target_score - 1e-9, fid
            checked["together"] += 1
    assert checked["single"] >= 20, checked
    assert checked["together"] >= 20, checked


def test_card_tables_hold_the_firms_values(run_dir: Path, firms: pd.DataFrame):
    covered = firms.groupby("firm_id")["cod_covered"].all()
    full = firms.groupby("firm_id")["year"].count() == firms["year"].nunique()
    fid = int(covered[covered & full].index[0])
    mine = firms[firms["firm_id"] == fid].sort_values("year")
    path = write_card(run_dir, fid)
    assert path == run_dir / "cards" / f"firm_{fid}.html"
    parsed = _parsed(path)
    tables = parsed.tables
    header = _row(tables, "Item", after="Score")
    assert header[1:] == [str(y) for y in mine["year"]]
    for label, column, unit in (("Score", "score", "points"),
                                ("Tax per mu", "ind_tax_per_mu", "万元/mu"),
                                ("Tax paid", "tax_wan_yuan", "万元"), ("Land", "land_mu", "mu")):
        assert _row(tables, label)[1:] == [fmt(v) for v in mine[column]], label
        assert parsed.units[label] == f"({unit})"
    # Money is in 万元 throughout: bills are stored in yuan.
    for label, column in (("Electricity bill (incl. surcharges)", "electricity_bill_yuan"),
                          ("Urban land-use tax, net of relief", "land_tax_yuan"),
                          ("Subsidies received", "subsidy_yuan")):
        assert _row(tables, label)[1:] == [fmt(v / 1e4) for v in mine[column]], label
        assert parsed.units[label] == "(万元)"
    assert _row(tables, "Electricity use")[1:] == [fmt(v / 1e4) for v in mine["electricity_kwh"]]
    assert _row(tables, "R&D / revenue")[1:] == [fmt(100 * v) for v in mine["ind_rd_share"]]
    assert parsed.units["R&D / revenue"] == "(%)"
    assert parsed.units["Electricity use"] == "(10k kWh)"
    assert _row(tables, "Class assigned this year")[1:] == [str(c) for c in mine["class"]]
    assert _row(tables, "Class in force (charged as)")[1:] == [
        str(c) for c in mine["class_in_force"]]
    assert _row(tables, "Rank in its group")[1:] == [
        f"{r} of {n}" for r, n in zip(mine["rank"], mine["group_size"], strict=True)]
    assert _row(tables, "Net payments (paid use, purchases, surcharges − sales)",
                after="Rights allocated")[1:]
    # The first market table's holdings at compliance, from its <quota>_held column.
    held = _row(tables, "Rights held at compliance (allocated, bought, leased, banked)",
                after="Rights allocated")[1:]
    assert held in [[fmt(v) for v in mine[f"{q}_held"]]
                    for q in ("energy", "cod", "nh3n", "so2", "nox")]
    assert any(v != "0" for v in held)
    text = path.read_text(encoding="utf-8")
    assert "every year of the run" in text
    assert "What would lift its class" in text


def test_card_lift_table_matches_class_lift(run_dir: Path, last_year: pd.DataFrame,
                                            spec: EvaluationSpec):
    for fid in last_year["firm_id"]:
        lift = class_lift(last_year, int(fid), spec)
        if lift.status == "ok" and any(x.status == "ok" for x in lift.lifts):
            break
    path = write_card(run_dir, int(fid), out=run_dir / "cards" / "lift.html")
    tables = _tables(path)
    item = next(x for x in lift.lifts if x.status == "ok")
    names = {"tax_per_mu": "Tax per mu", "tax_per_kwh": "Tax per kWh",
             "sales_per_kwh": "Taxable sales per kWh", "tax": "Tax", "sales": "Taxable sales",
             "va_per_mu": "Value added per mu", "va_per_tce": "Value added per tce",
             "va_per_emission": "Value added per t emissions",
             "labour_productivity": "Labour productivity", "rd_share": "R&D / revenue"}
    row = _row(tables, names[item.indicator], after="Needed")
    scale = 100.0 if item.indicator == "rd_share" else 1.0  # a share is shown in percent
    assert row[2:5] == [fmt(item.required * scale), fmt(item.rise * scale, signed=True),
                        fmt(item.rise_pct)]
    assert fmt(lift.target_score) in path.read_text(encoding="utf-8")


def test_card_of_firms_that_exited_or_entered_shows_only_their_years(run_dir: Path,
                                                                     firms: pd.DataFrame):
    span = firms.groupby("firm_id")["year"].agg(["min", "max"])
    first, last = firms["year"].min(), firms["year"].max()
    exited = span[span["max"] < last].index
    entered = span[span["min"] > first].index
    assert len(exited)
    assert len(entered)
    for fid, phrase in ((exited[0], f"closed at the end of {span.loc[exited[0], 'max']}"),
                        (entered[0], f"entered the run in {span.loc[entered[0], 'min']}")):
        path = write_card(run_dir, int(fid))
        years = list(range(span.loc[fid, "min"], span.loc[fid, "max"] + 1))
        assert _row(_tables(path), "Item", after="Score")[1:] == [str(y) for y in years]
        assert phrase in path.read_text(encoding="utf-8")


def test_unknown_firm_is_an_error_naming_the_file_and_the_id(run_dir: Path, firms: pd.DataFrame,
                                                             capsys: pytest.CaptureFixture):
    with pytest.raises(ScenarioError, match=r"firms\.parquet.*firm 999999"):
        write_card(run_dir, 999_999)
    # On the command line: one line, exit status 2, the ids the run holds and how to list them.
    assert main(["card", str(run_dir), "--firm", "999999"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    n, low, high = firms["firm_id"].nunique(), firms["firm_id"].min(), firms["firm_id"].max()
    assert f"firm 999999 is not in this run (replication 0 holds {n} firms, ids {low}–{high}" in err
    assert ("not every id in between" in err) == (n < high - low + 1)
    assert f"python run.py firms {run_dir} --class D" in err


def test_unknown_firm_error_says_when_ids_have_gaps(run_dir: Path, firms: pd.DataFrame,
                                                    tmp_path: Path):
    # Firms 1-4 only, without firm 3: 3 firms, ids 1–4 with a gap.
    gappy = tmp_path / "gappy"
    shutil.copytree(run_dir, gappy, ignore=shutil.ignore_patterns("firms.parquet", "cards"))
    firms[firms["firm_id"].isin([1, 2, 4])].to_parquet(gappy / "firms.parquet", index=False)
    _record_checksum(gappy, "firms.parquet")
    with pytest.raises(ScenarioError, match=r"firm 3 is not in this run \(replication 0 holds 3 "
                                            r"firms, ids 1–4, not every id in between\); list"):
        write_card(gappy, 3)
    with pytest.raises(ScenarioError, match=r"replication 7"):
        write_card(run_dir, 1, replication=7)


def test_card_of_a_run_holding_one_replication_needs_no_replication_number(
        run_dir: Path, firms: pd.DataFrame, tmp_path: Path):
    # A run of a comparison holds the one replication it ran (here: 3).
    third = tmp_path / "r003"
    shutil.copytree(run_dir, third, ignore=shutil.ignore_patterns("firms.parquet", "cards"))
    firms.assign(replication=3).to_parquet(third / "firms.parquet", index=False)
    _record_checksum(third, "firms.parquet")  # as the writer of such a run would
    fid = int(firms["firm_id"].iloc[0])
    card = write_card(third, fid).read_text(encoding="utf-8")
    assert "replication 3" in card
    assert write_card(run_dir, fid).read_text(encoding="utf-8").count("replication 0") == 1
    # An experiment directory points to its runs.
    exp = tmp_path / "compare"
    (exp / "runs" / "baseline").mkdir(parents=True)
    (exp / "experiment.json").write_text('{"kind": "compare"}', encoding="utf-8")
    shutil.copytree(third, exp / "runs" / "baseline" / "r003")
    with pytest.raises(ScenarioError, match=r"experiment directory.*runs/baseline/r003"):
        write_card(exp, fid)


def _record_checksum(run_dir: Path, name: str) -> None:
    from simulator.results import file_digest

    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"][name] = file_digest(run_dir / name)
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_run_without_firm_snapshots_is_an_error(run_dir: Path, tmp_path: Path):
    bare = tmp_path / "bare"
    shutil.copytree(run_dir, bare, ignore=shutil.ignore_patterns("firms.parquet", "cards"))
    with pytest.raises(ScenarioError, match=r"firms\.parquet.*firm 3"):
        write_card(bare, 3)


def test_card_is_self_contained_and_escaped(run_dir: Path, firms: pd.DataFrame, tmp_path: Path):
    fid = int(firms["firm_id"].iloc[0])
    path = write_card(run_dir, fid, out=tmp_path / "card.html", lang="zh")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "一企一单" in text
    assert "http" not in text
    assert "<script" not in text
    assert not list(tmp_path.glob(".*tmp*"))


def test_run_inside_an_experiment_reads_the_rules_from_its_scenario_file(run_dir: Path,
                                                                         tmp_path: Path):
    # Runs of a comparison keep their scenario in <exp>/scenarios/<name>.yaml.
    run = tmp_path / "exp" / "runs" / "small" / "r000"
    shutil.copytree(run_dir, run, ignore=shutil.ignore_patterns("scenario.yaml", "cards"))
    (tmp_path / "exp" / "scenarios").mkdir()
    shutil.copy(run_dir / "scenario.yaml", tmp_path / "exp" / "scenarios" / "small.yaml")
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("scenario")
    manifest["files"].pop("scenario.yaml")  # as an experiment's run: it holds no scenario.yaml
    manifest["scenario_file"] = "../../../scenarios/small.yaml"
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    fid = int(read_firm_years(run)["firm_id"].iloc[0])
    assert write_card(run, fid).read_text(encoding="utf-8") == write_card(
        run_dir, fid, out=tmp_path / "same.html").read_text(encoding="utf-8").replace(
        str(run_dir), str(run))
    (tmp_path / "exp" / "scenarios" / "small.yaml").unlink()
    with pytest.raises(ScenarioError, match=f"firm {fid}"):
        write_card(run, fid)


def test_employees_are_shown_as_whole_persons(run_dir: Path, firms: pd.DataFrame):
    # The model carries fractional employees (scaled by growth and calibration).
    assert (firms["employees"] % 1 != 0).mean() > 0.9
    fid = int(firms["firm_id"].iloc[0])
    mine = firms[firms["firm_id"] == fid].sort_values("year")
    path = write_card(run_dir, fid, out=run_dir / "cards" / "staff.html")
    shown = _row(_tables(path), "Employees")[1:]
    assert shown == [f"{math.floor(v + 0.5):,d}" for v in mine["employees"]]
    assert all(cell.replace(",", "").isdigit() for cell in shown)


def test_year_blocks_split_evenly_into_at_most_the_maximum():
    assert MAX_YEARS_PER_TABLE == 6
    assert year_blocks([2017, 2018, 2019]) == [[2017, 2018, 2019]]
    assert year_blocks(list(range(2017, 2023))) == [list(range(2017, 2023))]
    assert year_blocks(list(range(2017, 2024))) == [[2017, 2018, 2019, 2020], [2021, 2022, 2023]]
    assert [len(b) for b in year_blocks(list(range(15)))] == [5, 5, 5]
    assert [len(b) for b in year_blocks(list(range(20)))] == [5, 5, 5, 5]
    assert [len(b) for b in year_blocks(list(range(13)), max_years=4)] == [4, 3, 3, 3]
    with pytest.raises(ValueError, match="'max_years' parameter must be at least 1"):
        year_blocks([2017], max_years=0)


@pytest.fixture(scope="module")
def long_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """18 years (2017–2034) of a small county: three blocks of six years."""
    scenario = apply_changes(load_scenario(SMALL), {
        "population.n_industrial": 60, "population.n_services": 10, "run.end": "2034-12"})
    return run_scenario(scenario, out=tmp_path_factory.mktemp("card_long"), figures=False)


def test_a_long_run_is_split_into_tables_of_six_years(long_run_dir: Path):
    firms = read_firm_years(long_run_dir)
    span = firms.groupby("firm_id")["year"].agg(["min", "max", "count"])
    fid = int(span[(span["min"] == 2017) & (span["max"] == 2034)].index[0])
    mine = firms[firms["firm_id"] == fid].sort_values("year")
    parsed = _parsed(write_card(long_run_dir, fid))
    headers = [t[0] for t in parsed.tables if t[0][0] == "Item" and any(
        r[0] == "Score" for r in t)]
    assert [h[1:] for h in headers] == [[str(y) for y in range(a, a + 6)]
                                        for a in (2017, 2023, 2029)]
    evaluation = [k for k, t in enumerate(parsed.tables) if any(r[0] == "Score" for r in t)]
    assert [parsed.captions[k] for k in evaluation] == ["2017–2022", "2023–2028", "2029–2034"]
    scores = [c for k in evaluation for c in _row([parsed.tables[k]], "Score")[1:]]
    assert scores == [fmt(v) for v in mine["score"]]
    employees = [c for t in parsed.tables for r in t if r[0] == "Employees" for c in r[1:]]
    assert employees == [f"{math.floor(v + 0.5):,d}" for v in mine["employees"]]


def test_chinese_card_reads_in_chinese(run_dir: Path, firms: pd.DataFrame, tmp_path: Path):
    rated = firms.groupby("firm_id")["rank"].min() > 0
    fid = int(rated[rated].index[0])
    mine = firms[firms["firm_id"] == fid].sort_values("year")
    parsed = _parsed(write_card(run_dir, fid, out=tmp_path / "zh.html", lang="zh"))
    assert _row(parsed.tables, "项目", after="综合得分")[1:] == [str(y) for y in mine["year"]]
    assert _row(parsed.tables, "组内排名（名次/企业数）")[1:] == [
        f"{r}/{n}" for r, n in zip(mine["rank"], mine["group_size"], strict=True)]
    assert parsed.units["电费（含加价）"] == "（万元）"
    assert parsed.units["用电量"] == "（万千瓦时）"
    assert parsed.units["从业人员"] == "（人）"


# ---------------------------------------------------------------- layout in a browser

#: A4 portrait between the card's 1.6 cm margins: 17.8 cm at 96 px per inch.
_A4_CONTENT_PX = round(17.8 / 2.54 * 96)

_MEASURE = """() => {
  const page = document.documentElement.clientWidth;
  const tables = [...document.querySelectorAll('table')].map(t => ({
    scroll: t.scrollWidth, width: t.getBoundingClientRect().width,
    container: t.parentElement.clientWidth, right: t.getBoundingClientRect().right}));
  const labels = [...document.querySelectorAll('tbody th.label')].map(
    th => th.getBoundingClientRect().width / parseFloat(getComputedStyle(th).fontSize));
  return {page, doc: document.documentElement.scrollWidth, tables,
          narrowest_label_em: Math.min(...labels)};
}"""


def _measure(browser, path: Path, *, width: int, media: str) -> dict:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.emulate_media(media=media)
    page.goto(path.as_uri())
    measured = page.evaluate(_MEASURE)
    page.close()
    return measured


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("run", ["run_dir", "long_run_dir"])
def test_every_table_fits_the_screen_and_an_a4_page(browser, request: pytest.FixtureRequest,
                                                    run: str, lang: str, tmp_path: Path):
    directory = request.getfixturevalue(run)
    firms = read_firm_years(directory)
    # The firm with the largest numbers (widest cells), and one that took part in a market.
    fid = int(firms.loc[firms["electricity_kwh"].idxmax(), "firm_id"])
    path = write_card(directory, fid, out=tmp_path / f"{lang}.html", lang=lang)
    for width, media in ((1280, "screen"), (_A4_CONTENT_PX, "print")):
        m = _measure(browser, path, width=width, media=media)
        assert m["doc"] <= m["page"], (width, media, m["doc"])
        assert len(m["tables"]) >= 6
        for k, table in enumerate(m["tables"]):
            assert table["scroll"] <= table["container"], (width, media, k, table)
            assert table["right"] <= m["page"], (width, media, k, table)
        # A label column never shrinks to a character or two per line (in its own ems:
        # a Chinese character is 1 em wide).
        assert m["narrowest_label_em"] >= 7.5, (width, media, m["narrowest_label_em"])
