"""The catalogue (simulator/catalogue/): one declaration per quantity, read by every consumer.

Checks that the catalogue covers what the golden runs write, that every entry has its
texts in both languages, that its formulas are the ones the evaluation and the engine
compute, and that no user-visible text is left in a Python module.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import re
import string
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from simulator import catalogue
from simulator.catalogue import _entries, _locale
from simulator.evaluation import (
    INDICATOR_UNITS,
    INDICATORS,
    TIER_INDICATORS,
    EvaluationInput,
    evaluate,
)
from simulator.metrics import METRICS
from simulator.scenario import POLLUTANTS, EvaluationSpec

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
PACKAGE = ROOT / "simulator"
CATALOGUE_FILES = sorted((PACKAGE / "catalogue").rglob("*.yaml"))


def golden_metrics() -> set[str]:
    names: set[str] = set()
    for path in sorted(GOLDEN.glob("*.metrics.parquet")):
        names |= set(pd.read_parquet(path, columns=["metric"])["metric"].unique())
    return names


# ---------------------------------------------------------------- coverage


def test_every_metric_the_golden_runs_record_is_in_the_catalogue_and_back():
    # Metrics of a mechanism that is off unless a scenario enables it (``when``) are not
    # in the golden runs: tests/test_worked_examples.py records them.
    recorded = golden_metrics()
    assert recorded, "no golden metrics found"
    always = {m for m in catalogue.metric_names() if catalogue.entry(m).when is None}
    assert sorted(recorded - set(catalogue.metric_names())) == []
    assert sorted(always - recorded) == []


def test_firm_columns_of_the_catalogue_are_in_the_golden_firm_snapshots():
    columns = set(pq.read_schema(GOLDEN / "baseline.firms.parquet").names)
    declared = {e.column for e in catalogue.entries() if "firms" in e.outputs and e.when is None}
    assert sorted(declared - columns) == []
    indicators = {c for c in columns if c.startswith("ind_")}
    assert indicators == {e.name for e in catalogue.entries("indicator")}


def test_metrics_keeps_its_shape_name_to_unit_and_definition():
    assert list(METRICS) == list(catalogue.metric_names())
    for name, value in METRICS.items():
        entry = catalogue.entry(name)
        assert value == (entry.unit, entry.definition)
        assert isinstance(value, tuple)
        assert all(isinstance(v, str) and v for v in value)


def test_every_entry_has_labels_and_a_unit_in_both_languages():
    for lang in catalogue.LANGUAGES:
        words = catalogue.text(lang, "unit_words")
        for e in catalogue.entries():
            assert catalogue.label(e.name, lang).strip(), (lang, e.name)
            assert e.unit.strip(), e.name
            parts = [e.unit] if e.unit in words else e.unit.split("/")
            assert all(p in words for p in parts), (lang, e.name, e.unit)
            assert catalogue.unit(e.name, lang).strip(), (lang, e.name)
    assert set(catalogue.text("en", "labels")) == {e.name for e in catalogue.entries()}


def test_unknown_names_are_errors_that_name_the_closest():
    with pytest.raises(KeyError, match="did you mean 'tax_per_mu_wan_yuan'"):
        catalogue.entry("tax_per_mu_wan")
    with pytest.raises(ValueError, match=r"unknown metric 'tax_per_mu' \(did you mean "
                                         r"'tax_per_mu_wan_yuan'\?\)"):
        catalogue.check_metric("tax_per_mu")
    assert catalogue.check_metric("jobs") == "jobs"
    with pytest.raises(KeyError, match="add it to the labels"):
        catalogue.label("no_such_entry", "zh")
    with pytest.raises(ValueError, match=r"must be one of \['en', 'zh'\]"):
        catalogue.text("fr", "card")


def test_where_each_entry_is_computed_exists():
    for e in catalogue.entries():
        module_name, qualname = e.computed_in.split(":")
        target = importlib.import_module(module_name)
        for part in qualname.split("."):
            assert hasattr(target, part), (e.name, e.computed_in)
            target = getattr(target, part)


# ---------------------------------------------------------------- locale files


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_locale_files_have_the_same_keys_and_placeholders_in_both_languages():
    for section in catalogue.SECTIONS:
        en, zh = catalogue.text("en", section), catalogue.text("zh", section)
        assert list(en) == list(zh), section
        for key in en:
            assert en[key].strip(), (section, key)
            assert zh[key].strip(), (section, key)
            assert _placeholders(en[key]) == _placeholders(zh[key]), (section, key)


def test_catalogue_files_are_utf8_and_shipped_as_package_data():
    assert {p.name for p in CATALOGUE_FILES} == {"entries.yaml", "en.yaml", "zh.yaml"}
    for path in CATALOGUE_FILES:
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), path  # no byte-order mark
        raw.decode("utf-8")  # strict
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["simulator"]
    for path in CATALOGUE_FILES:
        relative = path.relative_to(PACKAGE).as_posix()
        assert any(fnmatch.fnmatch(relative, p) and relative.count("/") == p.count("/")
                   for p in patterns), relative


def test_key_indicators_are_metrics_with_labels():
    en, zh = catalogue.key_indicators("en"), catalogue.key_indicators("zh")
    assert [row[:2] for row in en] == [row[:2] for row in zh]
    assert len(en) == 14
    assert en[0][:2] == ("tax_per_mu_wan_yuan", "scale=above")
    for metric, _, _ in en:
        assert metric in METRICS


@pytest.mark.parametrize(("file", "text", "message"), [
    ("entries.yaml", "sections:\n- section: s\n  entries:\n    x: {kind: metric, unit: u, "
     "definition: d, computed_in: 'm:f', outputs: [metrics], group: [all]}\n",
     "unknown field 'group'"),
    ("entries.yaml", "groupings: {all: all}\nsections:\n- section: s\n  entries:\n"
     "    x: {kind: metric, unit: u, definition: d, computed_in: 'm:f', outputs: [metrics], "
     "groups: [all], period: annual, formula: {numerator: y, denominator: null}}\n",
     "'y' is not a quantity or bill"),
    ("locales/en.yaml", "\n".join(f"{s}: {{}}" for s in catalogue.SECTIONS).replace(
        "card: {}", "card: {yes: 'yes'}"), "must be strings"),
])
def test_malformed_files_are_errors(tmp_path, monkeypatch, file, text, message):
    (tmp_path / "locales").mkdir()
    (tmp_path / file).write_text(text, encoding="utf-8")
    monkeypatch.setattr(_entries, "HERE", tmp_path)
    monkeypatch.setattr(_locale, "HERE", tmp_path)
    _entries.catalogue.cache_clear()
    _locale._locale.cache_clear()
    try:
        with pytest.raises(catalogue.CatalogueError, match=message):
            _entries.catalogue() if file == "entries.yaml" else _locale._locale("en")
    finally:
        _entries.catalogue.cache_clear()
        _locale._locale.cache_clear()


# ---------------------------------------------------------------- formulas


def hand_case() -> tuple[EvaluationInput, EvaluationSpec]:
    """Two above-scale, two below-scale and two services firms with round numbers."""
    n = 6
    inp = EvaluationInput(
        firm_id=np.arange(1, n + 1),
        tax_wan_yuan=np.array([50.0, 30.0, 12.0, 8.0, 20.0, 5.0]),
        va_wan_yuan=np.array([300.0, 400.0, 60.0, 40.0, 90.0, 30.0]),
        revenue_wan_yuan=np.array([1000.0, 1500.0, 200.0, 100.0, 400.0, 50.0]),
        rd_wan_yuan=np.array([20.0, 15.0, 0.0, 1.0, 4.0, 0.0]),
        land_mu=np.array([10.0, 20.0, 6.0, 8.0, 2.0, 1.0]),
        employees=np.array([10.0, 20.0, 5.0, 4.0, 8.0, 2.0]),
        energy_tce=np.array([15.0, 40.0, 6.0, 5.0, 3.0, 1.0]),
        electricity_kwh=np.array([2e5, 5e5, 4e4, 2e4, 1e5, 2.5e4]),
        emissions_t=np.array([[1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.5, 0, 0, 0],
                              [0, 0, 0, 0.5], [0, 0, 0, 0], [0, 0, 0, 0]]),
        above_scale=np.array([True, True, False, False, False, False]),
        is_services=np.array([False, False, False, False, True, True]),
        sector=np.zeros(n, dtype=np.int16), region=np.zeros(n, dtype=np.int16),
        park=np.zeros(n, dtype=np.int16), high_tech=np.zeros(n, dtype=bool),
        listed=np.zeros(n, dtype=bool), brand=np.zeros(n, dtype=bool),
        vetoed=np.zeros(n, dtype=bool), protected=np.zeros(n, dtype=bool))
    spec = EvaluationSpec(emission_weights={"cod": 1.0, "nh3n": 2.0, "so2": 0.5, "nox": 4.0})
    return inp, spec


def quantities_of(inp: EvaluationInput, spec: EvaluationSpec) -> dict[str, np.ndarray]:
    """The formula operands by catalogue name, from the firms' columns."""
    weights = dict(zip(POLLUTANTS, spec.emission_weights.as_tuple(), strict=True))
    out = {name: np.asarray(getattr(inp, name), dtype=float) for name in (
        "tax_wan_yuan", "va_wan_yuan", "revenue_wan_yuan", "rd_wan_yuan", "land_mu",
        "employees", "energy_tce", "electricity_kwh")}
    out["weighted_emissions_t"] = sum(weights[p] * inp.emissions_t[:, i]
                                      for i, p in enumerate(POLLUTANTS))
    return out


def test_indicator_formulas_evaluate_to_what_the_evaluation_computes():
    inp, spec = hand_case()
    result = evaluate(inp, params=spec)
    q = quantities_of(inp, spec)
    np.testing.assert_array_equal(result.tier, [0, 0, 1, 1, 2, 2])
    formulas = catalogue.indicator_formulas()
    assert tuple(formulas) == INDICATORS
    for name, f in formulas.items():
        denominator = 1.0 if f.denominator is None else q[f.denominator]
        with np.errstate(divide="ignore"):  # services firms have no emissions
            mine = f.scale * q[f.numerator] / denominator
        in_tier = np.isin(result.tier, [t for t, names in TIER_INDICATORS.items()
                                        if name in names])
        shown = result.indicators[name]
        np.testing.assert_array_equal(shown[in_tier], mine[in_tier], err_msg=name)
        assert np.isnan(shown[~in_tier]).all(), name
    # by hand: firm 1 pays 50 on 10 mu; firm 2's weighted emissions 1 + 2 + 0.5 + 4 = 7.5 t
    assert result.indicators["tax_per_mu"][0] == 5.0
    assert result.indicators["va_per_emission"][1] == 400.0 / 7.5
    assert result.indicators["tax_per_kwh"][2] == 12.0 * 1e4 / 4e4  # yuan per kWh
    assert result.indicators["sales"][4] == 400.0


def test_the_catalogue_gives_the_evaluations_tiers_and_units():
    assert TIER_INDICATORS == {
        0: ("tax_per_mu", "va_per_mu", "va_per_tce", "va_per_emission", "labour_productivity",
            "rd_share"),
        1: ("tax_per_mu", "tax_per_kwh"),
        2: ("tax_per_kwh", "sales_per_kwh", "tax", "sales")}
    assert INDICATOR_UNITS["rd_share"] == "share of revenue"
    assert INDICATOR_UNITS["tax_per_kwh"] == "yuan/kWh"


def _annual_all(path: Path) -> pd.DataFrame:
    metrics = pd.read_parquet(path)
    annual = metrics[metrics["month"].isna() & (metrics["group"] == "all")]
    return annual.pivot_table(index="year", columns="metric", values="value", aggfunc="first")


def _group_total(name: str) -> str | None:
    """The metric that sums quantity ``name`` over a group, if any."""
    if catalogue.entry(name).is_metric:
        return name
    found = [e.name for e in catalogue.entries() if e.sum_of == (name,)]
    return found[0] if found else None


@pytest.mark.parametrize("run", ["baseline", "emission_cap_tight"])
def test_ratio_metrics_are_their_formulas_of_the_group_sums(run):
    wide = _annual_all(GOLDEN / f"{run}.metrics.parquet")
    checked = 0
    for metric, f in catalogue.ratio_formulas().items():
        numerator, denominator = _group_total(f.numerator), _group_total(f.denominator)
        if metric not in wide or numerator is None or denominator is None:
            continue  # e.g. the weighted emissions are not recorded as a sum
        expected = f.scale * wide[numerator] / wide[denominator]
        np.testing.assert_allclose(wide[metric], expected, rtol=1e-12, err_msg=metric)
        checked += 1
    assert checked >= 8, checked
    assert set(catalogue.ratio_formulas("evaluated")) | set(
        catalogue.ratio_formulas("charged")) == set(catalogue.ratio_formulas())


def test_sums_are_the_firms_values_added():
    firms = pd.read_parquet(GOLDEN / "baseline.firms.parquet")
    industrial = firms[firms["scale"].astype(str) != "services"]
    wide = _annual_all(GOLDEN / "baseline.metrics.parquet")
    checked = 0
    for e in catalogue.entries():
        names = [n.removeprefix("-") for n in e.sum_of]
        if not e.sum_of or not set(names) <= set(firms.columns):
            continue
        total = sum((-1 if n.startswith("-") else 1) * industrial.groupby("year")[
            n.removeprefix("-")].sum() for n in e.sum_of)
        np.testing.assert_allclose(wide[e.name], total, rtol=1e-9, err_msg=e.name)
        checked += 1
    assert checked >= 8, checked


def test_ratio_terms_hand_the_engine_its_own_arrays():
    va, land, tax = np.array([1.0]), np.array([2.0]), np.array([3.0])
    terms = catalogue.ratio_terms("evaluated", {"va_wan_yuan": va, "land_mu": land,
                                                "tax_wan_yuan": tax})
    assert list(terms) == ["tax_per_mu_wan_yuan", "va_per_mu_wan_yuan"]
    assert terms["va_per_mu_wan_yuan"][0] is va
    assert terms["va_per_mu_wan_yuan"][1] is land
    burden = catalogue.ratio_terms("charged", {"resource_bill_yuan": tax, "va_wan_yuan": va,
                                               "revenue_wan_yuan": land})
    assert list(burden) == ["resource_bill_yuan_per_wan_yuan_va",
                            "resource_bill_share_of_revenue"]  # no quota cost: no markets
    assert burden["resource_bill_share_of_revenue"][2] == 1e-4


# ---------------------------------------------------------------- no text in Python


#: Chinese characters (and full-width punctuation).
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
#: Modules whose Chinese strings are input data, matched and never shown: the column
#: headers and cell values of firm registers, and the sector names they use.
_INPUT_DATA_MODULES = {"simulator/population/tables.py", "simulator/population/sectors.py"}
#: Keyword arguments that document rather than show: pydantic fields, argparse help.
_DOC_KEYWORDS = {"description", "help"}


def _documentation_strings(tree: ast.AST) -> set[int]:
    """ids of the docstrings (any string statement) and description=/help= arguments."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            out.add(id(node.value))
        if isinstance(node, ast.keyword) and node.arg in _DOC_KEYWORDS:
            out |= {id(n) for n in ast.walk(node.value) if isinstance(n, ast.Constant)}
    return out


def _is_unit_symbol(value: str) -> bool:
    words = catalogue.text("zh", "unit_words")
    return value in words or all(part in words for part in value.split("/"))


def test_no_user_text_in_python_modules():
    """No string of a simulator module holds Chinese text, but documentation and units.

    The rule: a string literal containing a Chinese character is allowed only as a
    docstring (any string statement, attribute docstrings included), as the
    ``description=`` or ``help=`` argument of a call (schema and command-line
    documentation), as a unit symbol of the catalogue (e.g. ``yuan/万元``), or in a
    module reading Chinese input data (``_INPUT_DATA_MODULES``). Every English text
    has its Chinese twin, so a text table left in Python shows up here.
    """
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in _INPUT_DATA_MODULES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        allowed = _documentation_strings(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in allowed and _CJK.search(node.value)
                    and not _is_unit_symbol(node.value)):
                found.append(f"{relative}:{node.lineno}: {node.value[:40]!r}")
    assert found == []
