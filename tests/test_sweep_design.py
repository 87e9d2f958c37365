"""Sweep files: designs counted by hand, known Sobol' indices, and one-line errors."""

from __future__ import annotations

import logging
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.engine import simulate
from simulator.scenario import ScenarioError, load_scenario
from simulator.sweep import load_sweep, output_values, sobol_indices

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "scenarios" / "small.yaml"
D_KWH = "tariffs.electricity.class_surcharge_yuan_per_kwh.D"
D_WATER = "tariffs.water.class_sewage_surcharge_yuan_per_m3.D"
FORCED = "dynamics.exit.forced_exit_share_per_year"

# Line numbers matter: the error cases below name them.
OVERRIDES = ("{population.n_industrial: 150, population.n_services: 50, run.end: 2018-12, "
             "timeline: []}")
GOOD = f"""\
base: {SMALL.as_posix()}
overrides: {OVERRIDES}
parameters:
  - {{path: {D_KWH}, lower: 0.1, upper: 0.5}}
  - {{path: {FORCED}, values: [0.0, 0.02]}}
design: lhs
samples: 4
replications: 2
outputs:
  - {{metric: tax_per_mu_wan_yuan, group: scale=above, year: last}}
  - {{name: d_firms, metric: firms, group: class=D, year: 2018}}
"""

HEAD = GOOD.split("parameters:")[0]
TAIL = "outputs:\n  - {metric: tax_per_mu_wan_yuan, group: scale=above}\n"


def write(tmp_path: Path, body: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def sweep(tmp_path: Path, parameters: str, design: str, name: str = "sweep.yaml"):
    """Load a sweep of the tiny county with the given parameter lines and design lines."""
    body = HEAD + "parameters:\n" + textwrap.dedent(parameters) + textwrap.dedent(design) + TAIL
    return load_sweep(write(tmp_path, body, name))


# ------------------------------------------------------------------ grid


def test_grid_is_the_product_of_values_and_steps_first_parameter_slowest(tmp_path):
    problem = sweep(tmp_path, f"""\
        - {{path: {D_KWH}, values: [0.1, 0.3, 0.5]}}
        - {{path: {FORCED}, lower: 0, upper: 0.05, steps: 3}}
        """, "design: grid\nreplications: 2\n")
    expected = [(d, f) for d in (0.1, 0.3, 0.5) for f in (0.0, 0.025, 0.05)]
    assert list(problem.design.columns) == ["sample", D_KWH, FORCED]
    assert problem.design["sample"].tolist() == list(range(9))
    assert list(zip(problem.design[D_KWH], problem.design[FORCED], strict=True)) == expected
    assert problem.n_points == 9
    assert problem.n_runs == 18
    assert problem.parameters == [D_KWH, FORCED]
    assert problem.warnings == ()


def test_grid_steps_are_exact_decimals_and_whole_numbers_when_integer(tmp_path):
    problem = sweep(tmp_path, f"""\
        - {{path: {D_KWH}, lower: 0.1, upper: 0.5, steps: 5}}
        - {{path: dynamics.exit.loss_years, lower: 1, upper: 4, steps: 3, integer: true}}
        - {{path: population.max_age_years, values: [10, 20], integer: true}}
        """, "design: grid\n")
    assert problem.n_points == 5 * 3 * 2
    assert sorted(set(problem.design[D_KWH])) == [0.1, 0.2, 0.3, 0.4, 0.5]
    # 1, 2.5, 4 rounded half up
    assert sorted(set(problem.design["dynamics.exit.loss_years"])) == [1, 3, 4]
    changes = problem.changes(problem.n_points - 1)
    assert changes == {D_KWH: 0.5, "dynamics.exit.loss_years": 4, "population.max_age_years": 20}
    assert all(type(changes[k]) is int
               for k in ("dynamics.exit.loss_years", "population.max_age_years"))


# ------------------------------------------------------------------ Latin hypercube


def test_lhs_puts_one_point_in_each_stratum_of_every_range(tmp_path):
    n = 10
    problem = sweep(tmp_path, f"""\
        - {{path: {D_KWH}, lower: 0.1, upper: 0.5}}
        - {{path: {D_WATER}, lower: 0, upper: 2}}
        - {{path: {FORCED}, lower: 0, upper: 0.05}}
        """, f"design: lhs\nsamples: {n}\n")
    assert problem.n_points == n
    for path, lower, upper in ((D_KWH, 0.1, 0.5), (D_WATER, 0.0, 2.0), (FORCED, 0.0, 0.05)):
        x = problem.design[path].to_numpy()
        assert ((x >= lower) & (x <= upper)).all()
        strata = np.floor((x - lower) / (upper - lower) * n).astype(int)
        assert sorted(strata) == list(range(n)), path


def test_lhs_values_lists_and_integer_ranges_are_discrete_uniform(tmp_path):
    problem = sweep(tmp_path, f"""\
        - {{path: {FORCED}, values: [0.0, 0.01, 0.02]}}
        - {{path: dynamics.exit.loss_years, lower: 1, upper: 5, integer: true}}
        """, "design: lhs\nsamples: 30\n")
    # 30 strata: 10 fall on each of 3 values, 6 on each of 5 whole numbers.
    assert problem.design[FORCED].value_counts().to_dict() == {0.0: 10, 0.01: 10, 0.02: 10}
    years = problem.design["dynamics.exit.loss_years"]
    assert years.dtype == np.int64
    assert years.value_counts().sort_index().to_dict() == {1: 6, 2: 6, 3: 6, 4: 6, 5: 6}
    assert type(problem.changes(0)["dynamics.exit.loss_years"]) is int


def test_designs_are_fixed_by_the_seed(tmp_path):
    params = (f"- {{path: {D_KWH}, lower: 0.1, upper: 0.5}}\n"
              f"- {{path: {FORCED}, lower: 0, upper: 0.05}}\n")
    for design in ("lhs", "sobol"):
        a = sweep(tmp_path, params, f"design: {design}\nsamples: 8\nseed: 11\n", "a.yaml")
        b = sweep(tmp_path, params, f"design: {design}\nsamples: 8\nseed: 11\n", "b.yaml")
        c = sweep(tmp_path, params, f"design: {design}\nsamples: 8\nseed: 12\n", "c.yaml")
        pd.testing.assert_frame_equal(a.design, b.design)
        assert not np.allclose(a.design[D_KWH], c.design[D_KWH])
        assert a.scenario.seed == a.seed == 11
    # Without seed:, the base scenario's seed seeds the runs and the design.
    d = sweep(tmp_path, params, "design: lhs\nsamples: 8\n", "d.yaml")
    assert d.seed == load_scenario(SMALL).seed


# ------------------------------------------------------------------ Sobol'


def test_sobol_design_has_n_times_d_plus_2_points(tmp_path):
    problem = sweep(tmp_path, f"""\
        - {{path: {D_KWH}, lower: 0.1, upper: 0.5}}
        - {{path: {D_WATER}, lower: 0, upper: 2}}
        - {{path: {FORCED}, lower: 0, upper: 0.05}}
        """, "design: sobol\nsamples: 16\nreplications: 3\n")
    assert problem.n_points == 16 * (3 + 2)
    assert problem.n_runs == 16 * 5 * 3
    assert problem.warnings == ()
    assert problem.design[D_WATER].between(0, 2).all()


def test_sobol_samples_round_up_to_a_power_of_two_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="simulator.sweep"):
        problem = sweep(tmp_path, f"""\
            - {{path: {D_KWH}, lower: 0.1, upper: 0.5}}
            - {{path: {FORCED}, lower: 0, upper: 0.05}}
            """, "design: sobol\nsamples: 20\n")
    assert problem.n_points == 32 * (2 + 2)
    (warning,) = problem.warnings
    assert "samples 20 rounded up to 32" in warning
    assert warning in caplog.text


def sobol_problem(tmp_path: Path, samples: int, ranges: list[tuple[str, float, float]]):
    lines = "".join(f"- {{path: {p}, lower: {lo}, upper: {hi}}}\n" for p, lo, hi in ranges)
    return sweep(tmp_path, lines, f"design: sobol\nsamples: {samples}\nreplications: 2\n")


def run_outputs(problem, y: np.ndarray) -> pd.DataFrame:
    """Outputs of two replications that differ by +-1 and so average to ``y``."""
    (name,) = problem.outputs
    rows = [pd.DataFrame({"sample": problem.design["sample"], "replication": r,
                          name: y + (1.0 if r == 0 else -1.0)}) for r in (0, 1)]
    return pd.concat(rows, ignore_index=True).sample(frac=1.0, random_state=0)


def test_sobol_indices_of_a_linear_model_are_its_variance_shares(tmp_path):
    # Y = 4 x1 + 1 x2 + 0 x3, x1 ~ U(0, 1), x2 ~ U(0, 2): variances 16/12 and 4/12.
    ranges = [(D_KWH, 0.0, 1.0), (D_WATER, 0.0, 2.0), (FORCED, 0.0, 1.0)]
    problem = sobol_problem(tmp_path, 1024, ranges)
    x = problem.design
    y = 4 * x[D_KWH].to_numpy() + 1 * x[D_WATER].to_numpy() + 0 * x[FORCED].to_numpy()
    si = sobol_indices(problem, run_outputs(problem, y))
    assert list(si.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert si["parameter"].tolist() == [D_KWH, D_WATER, FORCED]
    np.testing.assert_allclose(si["S1"], [0.8, 0.2, 0.0], atol=0.03)
    np.testing.assert_allclose(si["ST"], [0.8, 0.2, 0.0], atol=0.03)
    assert (si["S1_conf"].iloc[:2] > 0).all()
    # Moving x3 alone never changes Y, so its estimates are zero, not just small.
    assert si.loc[2, ["S1", "ST", "S1_conf"]].abs().max() < 1e-12
    # The seed fixes the bootstrap too.
    pd.testing.assert_frame_equal(si, sobol_indices(problem, run_outputs(problem, y)))


def test_sobol_indices_of_the_ishigami_function(tmp_path):
    # Ishigami (a=7, b=0.1) on [-pi, pi]^3, reached by rescaling the design's ranges.
    ranges = [(D_KWH, 0.0, 1.0), (D_WATER, 0.0, 2.0), (FORCED, 0.0, 1.0)]
    problem = sobol_problem(tmp_path, 2048, ranges)
    x1, x2, x3 = (-math.pi + 2 * math.pi * (problem.design[p].to_numpy() - lo) / (hi - lo)
                  for p, lo, hi in ranges)
    y = np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)
    si = sobol_indices(problem, run_outputs(problem, y))
    np.testing.assert_allclose(si["S1"], [0.3139, 0.4424, 0.0], atol=0.05)
    np.testing.assert_allclose(si["ST"], [0.5576, 0.4424, 0.2437], atol=0.05)


def test_sobol_indices_need_a_complete_sobol_design(tmp_path):
    problem = sobol_problem(tmp_path, 8, [(D_KWH, 0.0, 1.0), (FORCED, 0.0, 1.0)])
    outputs = run_outputs(problem, problem.design[D_KWH].to_numpy())
    with pytest.raises(ValueError, match="lack 1 of the 32 design points"):
        sobol_indices(problem, outputs[outputs["sample"] != 5])
    with pytest.raises(ValueError, match="lack the column"):
        sobol_indices(problem, outputs.drop(columns=problem.outputs))
    lhs = load_sweep(write(tmp_path, GOOD, "lhs.yaml"))
    with pytest.raises(ValueError, match="need the sobol design"):
        sobol_indices(lhs, outputs)


def test_an_output_missing_in_a_run_gets_nan_indices(tmp_path):
    problem = sobol_problem(tmp_path, 8, [(D_KWH, 0.0, 1.0), (FORCED, 0.0, 1.0)])
    y = problem.design[D_KWH].to_numpy().copy()
    y[3] = np.nan
    assert sobol_indices(problem, run_outputs(problem, y))["ST"].isna().all()


# ------------------------------------------------------------------ outputs


def test_output_values_read_annual_rows_with_last_year_and_nan_for_missing(tmp_path):
    problem = load_sweep(write(tmp_path, GOOD + "  - {metric: energy_tce, year: 2017}\n"))
    assert problem.outputs == ["tax_per_mu_wan_yuan[scale=above]@2018", "d_firms",
                               "energy_tce[all]@2017"]
    metrics = pd.DataFrame({
        "year": np.array([2017, 2018, 2018, 2018, 2018], dtype=np.int16),
        "month": pd.array([pd.NA, pd.NA, 6, pd.NA, pd.NA], dtype="Int8"),
        "scenario": "x", "replication": 0,
        "group": ["scale=above", "scale=above", "scale=above", "class=D", "class=C"],
        "metric": ["tax_per_mu_wan_yuan", "tax_per_mu_wan_yuan", "tax_per_mu_wan_yuan",
                   "firms", "firms"],
        "value": [20.0, 25.0, 99.0, 7.0, 40.0],
    })
    values = output_values(problem, metrics)
    assert list(values) == problem.outputs
    assert values["tax_per_mu_wan_yuan[scale=above]@2018"] == 25.0  # last year, annual row
    assert values["d_firms"] == 7.0
    assert math.isnan(values["energy_tce[all]@2017"])


# ------------------------------------------------------------------ scenarios


def test_scenario_for_applies_a_row_and_names_the_run(tmp_path):
    problem = load_sweep(write(tmp_path, GOOD))
    s = problem.scenario_for(2)
    row = problem.design.loc[2]
    assert s.name == "sweep-s00002"
    assert row[D_KWH] == s.tariffs.electricity.class_surcharge_yuan_per_kwh.D
    assert row[FORCED] == s.dynamics.exit.forced_exit_share_per_year
    assert s.population.n_industrial == 150  # overrides
    assert s.seed == problem.scenario_for(0).seed  # common random numbers
    with pytest.raises(IndexError):
        problem.scenario_for(4)


def test_int_keyed_mapping_entries_can_be_swept(tmp_path):
    problem = sweep(tmp_path, "- {path: behaviour.margin_shift_by_year.2018, "
                              "lower: -0.05, upper: 0.05}\n", "design: lhs\nsamples: 4\n")
    s = problem.scenario_for(1)
    assert s.behaviour.margin_shift_by_year == {2018: problem.design.at[1, problem.parameters[0]]}


def test_a_parameter_the_base_timeline_resets_gives_a_warning(tmp_path):
    # small.yaml sets the D surcharge from 2019-01; keep its timeline and run to 2020.
    body = GOOD.replace(", run.end: 2018-12, timeline: []", "").replace("year: 2018", "year: 2020")
    problem = load_sweep(write(tmp_path, body))
    (warning,) = problem.warnings
    assert f"{D_KWH} is also set by the base scenario's timeline from 2019-01" in warning


def test_corners_of_the_parameter_box_are_checked_together(tmp_path):
    # Either bound alone is valid, but the floor's top with the ceiling's bottom is not.
    with pytest.raises(ScenarioError) as exc:
        sweep(tmp_path, """\
            - {path: markets.energy.price.floor_yuan_per_unit, lower: 500, upper: 2500}
            - {path: markets.energy.price.ceiling_yuan_per_unit, lower: 2000, upper: 5000}
            """, "design: lhs\nsamples: 4\n")
    assert exc.value.line == 4
    assert exc.value.field == "parameters.0.upper"
    assert "price floor 2500 is above the ceiling 2000" in exc.value.message


def test_the_example_sweeps_load():
    small = load_sweep(ROOT / "tests" / "scenarios" / "sweep_small.yaml")
    assert (small.spec.design, small.n_points, small.n_runs) == ("lhs", 4, 8)
    assert small.scenario.years == [2017, 2018]
    assert small.scenario.population.n_industrial + small.scenario.population.n_services == 200
    classes = load_sweep(ROOT / "scenarios" / "sweep_class_surcharges.yaml")
    assert (classes.spec.design, classes.n_points, classes.n_runs) == ("grid", 15, 30)
    assert classes.scenario.years[-1] == 2026
    levers = load_sweep(ROOT / "scenarios" / "sweep_sobol_levers.yaml")
    assert (levers.spec.design, len(levers.parameters), levers.n_runs) == ("sobol", 6, 1024)
    assert levers.scenario.population.n_industrial + levers.scenario.population.n_services \
        == 10_000
    for problem in (small, classes, levers):
        assert problem.warnings == ()
        assert not problem.scenario.output.firm_snapshots
        assert not problem.scenario.output.monthly_metrics


def test_one_run_of_the_small_sweep_gives_every_output():
    problem = load_sweep(ROOT / "tests" / "scenarios" / "sweep_small.yaml")
    values = output_values(problem, simulate(problem.scenario_for(0), replication=1).metrics)
    assert list(values) == problem.outputs
    assert all(np.isfinite(v) for v in values.values())
    assert values["tax_per_mu_wan_yuan[scale=above]@2018"] > 0


# ------------------------------------------------------------------ bad files

P0 = f"- {{path: {D_KWH}, lower: 0.1, upper: 0.5}}"
P1 = f"- {{path: {FORCED}, values: [0.0, 0.02]}}"

#: case -> (replacements in GOOD, line, field, start of the message)
BAD = {
    "unknown key": ([("replications: 2", "replication: 2")], 8, "replication",
                    "unknown field (did you mean 'replications'?)"),
    "unknown parameter key": ([("lower: 0.1", "lowr: 0.1")], 4, "parameters.0.lowr",
                              "unknown field (did you mean 'lower'?)"),
    "unknown path": ([("share_per_year", "share_per_yr")], 5, "parameters.1.path",
                     "unknown field 'forced_exit_share_per_yr' in path"),
    "unknown int-keyed path": ([(FORCED, "behaviour.margin_shift_by_yr.2017")], 5,
                               "parameters.1.path", "unknown field 'margin_shift_by_yr'"),
    "range not increasing": ([("lower: 0.1, upper: 0.5", "lower: 0.5, upper: 0.5")], 4,
                             "parameters.0.upper", "upper (0.5) must be greater than lower"),
    "empty values": ([("[0.0, 0.02]", "[]")], 5, "parameters.1.values", "values is empty"),
    "duplicate value": ([("[0.0, 0.02]", "[0.0, 0.0]")], 5, "parameters.1.values.1",
                        "duplicate value 0.0"),
    "values and range": ([("values: [0.0, 0.02]", "values: [0.0], lower: 0, upper: 1")], 5,
                         "parameters.1.values", "give values or a range"),
    "half a range": ([("lower: 0.1, upper: 0.5", "lower: 0.1")], 4, "parameters.0.upper",
                     "upper is missing"),
    "steps below 2": ([("design: lhs\nsamples: 4", "design: grid"),
                       ("upper: 0.5}", "upper: 0.5, steps: 1}")], 4, "parameters.0.steps",
                      "Input should be greater than or equal to 2"),
    "grid range without steps": ([("design: lhs\nsamples: 4", "design: grid")], 4,
                                 "parameters.0", "a grid needs values or steps"),
    "samples in a grid": ([("design: lhs", "design: grid")], 7, "samples",
                          "samples is not used by the grid design"),
    "steps outside a grid": ([("upper: 0.5}", "upper: 0.5, steps: 3}")], 4,
                             "parameters.0.steps", "steps is for the grid design"),
    "sobol with values": ([("design: lhs", "design: sobol")], 5, "parameters.1.values",
                          "the sobol design needs ranges"),
    "samples missing": ([("samples: 4\n", "")], 6, "samples", "the lhs design needs samples"),
    "replications below 1": ([("replications: 2", "replications: 0")], 8, "replications",
                             "Input should be greater than or equal to 1"),
    "unknown metric": ([("metric: tax_per_mu_wan_yuan", "metric: tax_per_mu")], 10,
                       "outputs.0.metric",
                       "unknown metric 'tax_per_mu' (did you mean 'tax_per_mu_wan_yuan'?)"),
    "year outside the run": ([("year: 2018", "year: 2019")], 11, "outputs.1.year",
                             "year 2019 is outside the run (2017 to 2018)"),
    "year neither a year nor last": ([("year: last", "year: final")], 10, "outputs.0.year",
                                     "year must be a calendar year or 'last'"),
    "unknown class": ([("class=D", "class=E")], 11, "outputs.1.group", "unknown class 'E'"),
    "unknown sector": ([("class=D", "sector=cements")], 11, "outputs.1.group",
                       "unknown sector 'cements' in the base scenario (did you mean 'cement'?)"),
    "unknown region": ([("class=D", "region=nowhere")], 11, "outputs.1.group",
                       "unknown region 'nowhere' in the base scenario"),
    "unknown transition": ([("class=D", "A->Z")], 11, "outputs.1.group",
                           "unknown class transition 'A->Z'"),
    "unknown group dimension": ([("class=D", "colour=red")], 11, "outputs.1.group",
                                "unknown group dimension 'colour'"),
    "group not a group": ([("group: scale=above", "group: above")], 10, "outputs.0.group",
                          "group must be 'all'"),
    "duplicate parameter": ([(P1, P0)], 5, "parameters.1.path",
                            f"duplicate parameter '{D_KWH}'"),
    "overlapping parameters": ([(P1, "- {path: tariffs.electricity, values: [{}]}")], 5,
                               "parameters.1.path", "'tariffs.electricity' overlaps parameter"),
    "parameter in overrides": ([(FORCED, "population.n_services")], 5, "parameters.1.path",
                               "'population.n_services' is also set in overrides"),
    "seed as a parameter": ([(FORCED, "seed")], 5, "parameters.1.path",
                            "the seed is not swept"),
    "run as a parameter": ([(FORCED, "run.end")], 5, "parameters.1.path",
                           "every run has the same calendar"),
    "duplicate output": ([("name: d_firms, metric: firms, group: class=D",
                           "metric: tax_per_mu_wan_yuan, group: scale=above")], 11,
                         "outputs.1.metric",
                         "duplicate output 'tax_per_mu_wan_yuan[scale=above]@2018'"),
    "duplicate output name": ([("- {metric: tax", "- {name: d_firms, metric: tax")], 11,
                              "outputs.1.name", "duplicate output 'd_firms'"),
    "reserved output name": ([("name: d_firms", "name: replication")], 11, "outputs.1.name",
                             "output name 'replication' is taken"),
    "range below the field's minimum": ([("lower: 0.1", "lower: -0.1")], 4,
                                        "parameters.0.lower",
                                        f"{D_KWH}: Input should be greater than or equal to 0"),
    "value above the field's maximum": ([("[0.0, 0.02]", "[0.0, 1.5]")], 5,
                                        "parameters.1.values.1",
                                        f"{FORCED}: Input should be less than or equal to 1"),
    "integer field without integer": ([(P0, "- {path: population.max_age_years, lower: 10, "
                                             "upper: 40}")], 4, "parameters.0.path",
                                      "'population.max_age_years' takes whole numbers"),
    "range on a text field": ([(P0, "- {path: tariffs.electricity.stacking, lower: 0, "
                                     "upper: 1}")], 4, "parameters.0.path",
                              "'tariffs.electricity.stacking' holds 'add', not a number"),
    "fractional integer bound": ([(P0, "- {path: dynamics.exit.loss_years, lower: 1.5, "
                                       "upper: 4, integer: true}")], 4, "parameters.0.lower",
                                 "1.5 is not a whole number"),
    "bad override path": ([("timeline: []", "timelin: []")], 2, "overrides.timelin",
                          "unknown field 'timelin' in path 'timelin' (did you mean 'timeline'?)"),
    "bad override value": ([("population.n_services: 50", "population.n_services: -5")], 2,
                           "overrides.population.n_services", "Input should be greater"),
    "missing base": ([(SMALL.as_posix(), "nowhere.yaml")], 1, "base", "file not found"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_sweep_file_names_its_line_and_field(tmp_path, case):
    replacements, line, field, message = BAD[case]
    body = GOOD
    for old, new in replacements:
        assert old in body, old
        body = body.replace(old, new, 1)
    with pytest.raises(ScenarioError) as exc:
        load_sweep(write(tmp_path, body))
    err = exc.value
    assert (err.line, err.field) == (line, field), str(err)
    assert err.message.startswith(message) or message in err.message, str(err)
    assert f"sweep.yaml:{line}: {field}: " in str(err)
    assert "\n" not in str(err)


@pytest.mark.parametrize(("name", "line", "field"), [
    ("bad_sweep_unknown_key.yaml", 9, "replication"),
    ("bad_sweep_negative_surcharge.yaml", 7, "parameters.0.lower"),
])
def test_the_bad_example_sweeps_name_their_line(name, line, field):
    with pytest.raises(ScenarioError) as exc:
        load_sweep(ROOT / "tests" / "scenarios" / name)
    assert (exc.value.line, exc.value.field) == (line, field)


def test_every_group_a_run_reports_can_be_a_sweep_output(tmp_path):
    # The groups checked when a sweep file is loaded are the groups the engine writes:
    # each annual group of a real run (dynamics and markets on) is accepted.
    problem = load_sweep(write(tmp_path, GOOD))
    metrics = simulate(problem.scenario).metrics
    groups = sorted(set(metrics.loc[metrics["month"].isna(), "group"]))
    assert {"kind=services", "market=energy", "option=retrofit", "reason=losses",
            "A->B"} <= set(groups)
    outputs = "".join(f"  - {{name: g{k}, metric: firms, group: \"{g}\"}}\n"
                      for k, g in enumerate(groups))
    body = GOOD.split("outputs:")[0] + "outputs:\n" + outputs
    assert len(load_sweep(write(tmp_path, body, "all_groups.yaml")).outputs) == len(groups)
