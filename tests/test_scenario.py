"""Scenario loading: validation, extends, timeline paths and error messages."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from simulator.scenario import (
    ScenarioError,
    apply_changes,
    default_scenario_path,
    json_schema,
    load_scenario,
)

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def variant(tmp_path: Path, body: str, name: str = "variant.yaml") -> Path:
    """A scenario extending the real baseline (copied next to it)."""
    (tmp_path / "baseline.yaml").write_text(BASELINE.read_text(encoding="utf-8"),
                                            encoding="utf-8")
    return write(tmp_path, name, "extends: baseline.yaml\nname: variant\n" + textwrap.dedent(body))


def error_of(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


def test_baseline_loads_with_sourced_defaults():
    s = load_scenario(BASELINE)
    assert s.name == "baseline"
    assert s.run.n_months == 14 * 12
    assert s.tariffs.electricity.class_surcharge_yuan_per_kwh.D == 0.3
    assert s.evaluation.weights_above_scale["tax_per_mu"] == 30
    assert s.population.targets.tax_per_mu_wan_yuan == 25.5
    assert len([x for x in s.population.sectors.values() if x.kind == "industrial"]) >= 8


def test_every_baseline_default_carries_a_source_comment():
    # Every scalar or inline-mapping line in baseline.yaml sits in a commented block
    # or has a trailing (src)/(est)/(der) tag; check the tags are used, and that no
    # line in the tariff and evaluation sections lacks one in its block.
    text = BASELINE.read_text(encoding="utf-8")
    assert text.count("(src)") >= 15
    assert text.count("(est)") >= 15


def test_embedded_default_is_the_shipped_baseline():
    assert default_scenario_path().read_text(encoding="utf-8") == BASELINE.read_text(
        encoding="utf-8")


def test_objects_are_frozen():
    s = load_scenario(BASELINE)
    with pytest.raises(Exception, match="frozen"):
        s.seed = 3


def test_extends_merges_mappings_deeply_and_replaces_scalars(tmp_path):
    path = variant(tmp_path, """
        tariffs:
          electricity:
            class_surcharge_yuan_per_kwh: {D: 0.5}
    """)
    s = load_scenario(path)
    assert s.name == "variant"
    assert s.tariffs.electricity.class_surcharge_yuan_per_kwh.D == 0.5
    # Sibling fields come from the baseline.
    assert s.tariffs.electricity.general_price_yuan_per_kwh == 0.75
    assert s.tariffs.water.class_sewage_surcharge_yuan_per_m3.D == 0.6


def test_extends_chains(tmp_path):
    variant(tmp_path, "seed: 7\n", name="mid.yaml")
    leaf = write(tmp_path, "leaf.yaml", "extends: mid.yaml\nname: leaf\n")
    s = load_scenario(leaf)
    assert (s.name, s.seed) == ("leaf", 7)


def test_extends_cycle_is_an_error(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    b = write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    err = error_of(b)
    assert "extends cycle" in str(err)
    assert "b.yaml -> a.yaml -> b.yaml" in str(err)
    assert err.field == "extends"


def test_missing_extends_file_names_the_referencing_line(tmp_path):
    path = write(tmp_path, "x.yaml", "name: x\nextends: nowhere.yaml\n")
    err = error_of(path)
    assert "file not found" in str(err)
    assert err.file.endswith("x.yaml")
    assert err.line == 2


def test_unknown_key_suggests_the_nearest(tmp_path):
    path = variant(tmp_path, """
        tariffs:
          electricity:
            clas_surcharge_yuan_per_kwh: {D: 0.5}
    """)
    err = error_of(path)
    assert err.field == "tariffs.electricity.clas_surcharge_yuan_per_kwh"
    assert "did you mean 'class_surcharge_yuan_per_kwh'" in str(err)
    assert err.file.endswith("variant.yaml")
    assert err.line == 6  # 1 extends, 2 name, 3 blank, 4 tariffs, 5 electricity, 6 the key


def test_wrong_type_names_field_and_line(tmp_path):
    path = variant(tmp_path, "population:\n  n_industrial: many\n")
    err = error_of(path)
    assert err.field == "population.n_industrial"
    assert err.line == 4
    assert "'many'" in str(err)


def test_negative_price_is_rejected(tmp_path):
    path = variant(tmp_path, """
        tariffs:
          water:
            base_price_yuan_per_m3: -1
    """)
    err = error_of(path)
    assert err.field == "tariffs.water.base_price_yuan_per_m3"
    assert "greater than or equal to 0" in str(err)


def test_class_shares_must_sum_to_one(tmp_path):
    path = variant(tmp_path, """
        evaluation:
          classification:
            shares: {A: 0.3, B: 0.55, C: 0.2, D: 0.05}
    """)
    err = error_of(path)
    assert err.field == "evaluation.classification.shares"
    assert "sum to 1" in str(err)
    assert err.line == 6


def test_decreasing_tier_thresholds_are_rejected(tmp_path):
    path = variant(tmp_path, """
        tariffs:
          electricity:
            tiered:
              metals:
                reference_unit_consumption: 13600
                blocks:
                  - {above: 13800, surcharge_yuan_per_kwh: 0.02}
                  - {above: 13700, surcharge_yuan_per_kwh: 0.08}
    """)
    err = error_of(path)
    assert err.field == "tariffs.electricity.tiered.metals.blocks"
    assert "thresholds must increase" in str(err)


def test_decreasing_water_blocks_are_rejected(tmp_path):
    path = variant(tmp_path, """
        tariffs:
          water:
            blocks:
              - {up_to_quota_ratio: 1.2, multiplier: 1}
              - {up_to_quota_ratio: 1.1, multiplier: 2}
              - {up_to_quota_ratio: null, multiplier: 3}
    """)
    assert "thresholds must increase" in str(error_of(path))


def test_timeline_sets_fields_by_dotted_path(tmp_path):
    path = variant(tmp_path, """
        timeline:
          - {date: 2019-01, set: {tariffs.electricity.class_surcharge_yuan_per_kwh.D: 0.5}}
    """)
    s = load_scenario(path)
    change = s.timeline[0]
    assert change.date == "2019-01"
    later = apply_changes(s, change.set)
    assert later.tariffs.electricity.class_surcharge_yuan_per_kwh.D == 0.5
    assert s.tariffs.electricity.class_surcharge_yuan_per_kwh.D == 0.3


def test_timeline_date_outside_run_is_an_error(tmp_path):
    path = variant(tmp_path, """
        timeline:
          - {date: 2035-01, set: {tariffs.electricity.class_surcharge_yuan_per_kwh.D: 0.5}}
    """)
    err = error_of(path)
    assert err.field == "timeline.0.date"
    assert "outside the run" in str(err)
    assert err.line == 5  # the list item under timeline (line 4)


def test_timeline_unknown_path_suggests_the_nearest(tmp_path):
    path = variant(tmp_path, """
        timeline:
          - {date: 2019-01, set: {tariffs.electricity.class_surcharge.D: 0.5}}
    """)
    err = error_of(path)
    assert "did you mean 'class_surcharge_yuan_per_kwh'" in str(err)
    assert err.field.startswith("timeline.0.set")


def test_changes_that_break_a_model_rule_name_the_field():
    s = load_scenario(BASELINE)
    with pytest.raises(ScenarioError) as info:
        apply_changes(s, {"run.end": "2018-12", "timeline": [
            {"date": "2019-01", "set": {"seed": 1}}]})
    assert info.value.field == "timeline.0.date"


def test_timeline_value_is_validated_when_applied(tmp_path):
    s = load_scenario(BASELINE)
    with pytest.raises(ScenarioError, match="greater than or equal to 0"):
        apply_changes(s, {"tariffs.electricity.class_surcharge_yuan_per_kwh.D": -0.1})


def test_timeline_values_are_checked_in_date_order_at_the_change_that_breaks_them(tmp_path):
    # Listed first but dated later: a ceiling lowered in 2022 under the floor raised in 2020
    # is an error of the 2022 change (the states the run goes through, in date order).
    path = variant(tmp_path, """
        timeline:
          - {date: 2022-01, set: {markets.energy.price.ceiling_yuan_per_unit: 800}}
          - {date: 2020-01, set: {markets.energy.price.floor_yuan_per_unit: 900}}
    """)
    err = error_of(path)
    assert err.field == "timeline.0.set.markets.energy.price.ceiling_yuan_per_unit"
    assert err.line == 5
    assert "from 2022-01, markets.energy.price: price floor 900 is above the ceiling 800" \
        in str(err)
    # Each change alone, or both in the other order of dates, is fine (the baseline's
    # containment release at 2,000 goes with a ceiling below it).
    ok = variant(tmp_path, """
        timeline:
          - {date: 2020-01, set: {markets.energy.price.ceiling_yuan_per_unit: 800,
                                  markets.energy.reserve.releases: []}}
          - {date: 2022-01, set: {markets.energy.price.floor_yuan_per_unit: 900,
                                  markets.energy.price.ceiling_yuan_per_unit: 2000}}
    """, name="ok.yaml")
    assert len(load_scenario(ok).timeline) == 2


def test_fields_fixed_at_the_start_of_a_run_cannot_change_on_the_timeline(tmp_path):
    for path, value in (("markets.energy.auctions_per_year", 2),
                        ("markets.emissions.cod.mac.firm_sigma", 0.1),
                        ("markets.energy.mac", {"firm_sigma": 0.1}),
                        ("markets.emissions", {}), ("markets.energy.enabled", False),
                        ("dynamics.land.new_land_mu_per_year", 30000),
                        ("dynamics.investment.retrofit.cost_sigma", 0.9),
                        ("dynamics.finance.initial_cash_share_of_revenue", 0.5)):
        file = variant(tmp_path, f"""
            timeline:
              - {{date: 2020-01, set: {{{path}: {value!r}}}}}
        """)
        err = error_of(file)
        assert err.field == f"timeline.0.set.{path}", path
        assert "cannot change during a run" in str(err), path
    # The share a firm may abate can change (bids are rebuilt at every allocation), and so
    # can a fixed field set to the value it has.
    file = variant(tmp_path, """
        timeline:
          - {date: 2020-01, set: {markets.energy.mac.max_abatement_share: 0.2,
                                  markets.energy.enabled: true}}
    """)
    assert load_scenario(file).timeline[0].set == {"markets.energy.mac.max_abatement_share": 0.2,
                                                   "markets.energy.enabled": True}


def test_empty_file_is_an_error(tmp_path):
    path = write(tmp_path, "empty.yaml", "\n")
    assert "empty" in str(error_of(path))


def test_not_yaml_at_all_names_the_line(tmp_path):
    path = write(tmp_path, "bad.yaml", "name: x\n\tseed: 1\n")  # a tab cannot indent YAML
    err = error_of(path)
    assert "not valid YAML" in str(err)
    assert err.line == 2


def test_yaml_that_is_not_a_mapping_is_an_error(tmp_path):
    path = write(tmp_path, "list.yaml", "- a\n- b\n")
    assert "must be a YAML mapping" in str(error_of(path))
    prose = write(tmp_path, "prose.yaml", "This is a memo, not a scenario.\n")
    assert "must be a YAML mapping" in str(error_of(prose))


def test_missing_required_field(tmp_path):
    path = write(tmp_path, "bare.yaml", "name: bare\n")
    err = error_of(path)
    assert err.field == "population"
    assert "required" in str(err)


def test_error_string_is_one_line_with_file_line_field(tmp_path, monkeypatch):
    path = variant(tmp_path, "population:\n  n_industrial: -5\n")
    monkeypatch.chdir(tmp_path)
    text = str(error_of(path))
    assert text.startswith("variant.yaml:4: population.n_industrial: ")
    assert "\n" not in text



def test_json_schema_lists_the_sections():
    schema = json_schema()
    assert {"run", "population", "evaluation", "tariffs", "timeline", "extends"} <= set(
        schema["properties"])


def test_land_grades_need_a_land_tax_rate_each(tmp_path):
    path = variant(tmp_path, """
        population:
          land_grade_shares: [0.25, 0.25, 0.25, 0.25]
    """)
    err = error_of(path)
    assert err.field == "tariffs.land_tax.rate_yuan_per_m2_year_by_grade"
    assert "4 land grades" in str(err)


@pytest.mark.parametrize(("body", "field", "message"), [
    ("markets:\n  emissions:\n    cod:\n      cap: {yearly: {2018: -5}}\n",
     "markets.emissions.cod.cap.yearly.2018", "greater than or equal to 0"),
    ("markets:\n  energy:\n    cap: {first_year_share_of_baseline: 0}\n",
     "markets.energy.cap.first_year_share_of_baseline", "greater than 0"),
    ("markets:\n  energy:\n    price: {floor_yuan_per_unit: 900, ceiling_yuan_per_unit: 800}\n",
     "markets.energy.price", "price floor 900 is above the ceiling 800"),
    ("markets:\n  emissions:\n    so2: {term_years: 0}\n",
     "markets.emissions.so2.term_years", "greater than or equal to 1"),
    ("markets:\n  emissions:\n    pm25: {enabled: true}\n",
     "markets.emissions.pm25", "'cod', 'nh3n', 'so2' or 'nox'"),
    ("markets:\n  energy:\n    overquota_surcharge:\n"
     "      - {above: 0.2, price_yuan_per_unit: 1000}\n"
     "      - {above: 0.1, price_yuan_per_unit: 2000}\n",
     "markets.energy.overquota_surcharge", "thresholds must increase"),
    ("markets:\n  energy:\n    reserve: {share_of_cap: 1.5}\n",
     "markets.energy.reserve.share_of_cap", "less than or equal to 1"),
])
def test_bad_market_fields_are_named(tmp_path, body, field, message):
    err = error_of(variant(tmp_path, body))
    assert err.field.startswith(field)
    assert message in str(err)


def test_markets_cannot_be_switched_on_during_a_run(tmp_path):
    path = variant(tmp_path, """
        timeline:
          - {date: 2019-01, set: {markets.energy.enabled: false}}
    """)
    assert "cannot change during a run" in str(error_of(path))


def test_no_differentiation_leaves_no_class_dependent_lever_but_the_grading():
    # Every value given per class A-D outside the evaluation itself is the same for all
    # classes, and the baseline differentiates each of them (so the file sets them all).
    def per_class(data, path=()):
        if isinstance(data, dict):
            if set(data) >= {"A", "B", "C", "D"} and not any(isinstance(v, dict)
                                                             for v in data.values()):
                yield ".".join(path), data
            for key, value in data.items():
                yield from per_class(value, (*path, str(key)))

    def differentiated(scenario) -> dict:
        """The per-class values outside the evaluation that differ between classes."""
        return {p: v for p, v in per_class(scenario.model_dump(mode="json"))
                if not p.startswith("evaluation.") and len({v[c] for c in "ABCD"}) > 1}

    assert differentiated(load_scenario(BASELINE.parent / "no_differentiation.yaml")) == {}
    assert {"dynamics.finance.loan_rate_by_class", "markets.energy.allocation.class_factor",
            "dynamics.investment.automation.subsidy_share_by_class"} <= set(
        differentiated(load_scenario(BASELINE)))


def test_misspelt_key_in_a_list_item_is_named_in_the_file_that_has_it(tmp_path):
    # The child's list replaces the baseline's: the error is on the child's line, the
    # unknown key (not the "missing" one it was meant to be) with its suggestion.
    path = variant(tmp_path, """
        tariffs:
          water:
            blocks:
              - {up_to_quota_ratio: 1.2, multiplier: 1.0}
              - {up_to_quota_ratio: null, multiplir: 2.0}
    """)
    err = error_of(path)
    assert err.file == str(path)
    assert err.line == 8
    assert err.field == "tariffs.water.blocks.1.multiplir"
    assert "unknown field (did you mean 'multiplier'?)" in str(err)


def test_release_triggers_rise_and_lie_between_floor_and_ceiling():
    from simulator import apply_changes

    s = load_scenario(Path(__file__).resolve().parent / "scenarios" / "small.yaml")
    path = "markets.emissions.cod.reserve.releases"
    with pytest.raises(ScenarioError, match="trigger prices must increase"):
        apply_changes(s, {path: [{"trigger_price_yuan_per_unit": 9000, "share": 0.2},
                                 {"trigger_price_yuan_per_unit": 8000, "share": 0.2}]})
    above = s.markets.emissions["cod"].price.ceiling_yuan_per_unit + 1
    with pytest.raises(ScenarioError, match="above the floor"):
        apply_changes(s, {path: [{"trigger_price_yuan_per_unit": above, "share": 0.2}]})
    with pytest.raises(ScenarioError, match="more than 1"):
        apply_changes(s, {path: [{"trigger_price_yuan_per_unit": 8000, "share": 0.6},
                                 {"trigger_price_yuan_per_unit": 9000, "share": 0.6}]})


def test_a_decline_rate_inside_the_cap_index_path_is_an_error_not_ignored():
    from simulator import apply_changes

    s = load_scenario(Path(__file__).resolve().parent / "scenarios" / "small.yaml")
    with pytest.raises(ScenarioError, match="annual_decline applies only after it"):
        apply_changes(s, {"timeline": [{"date": "2019-01", "set": {
            "markets.emissions.cod.cap.annual_decline": 0.05}}]})


# ------------------------------------------- population fields of the other source


@pytest.mark.parametrize(("body", "field", "line", "message"), [
    ("population:\n  file: firms.csv\n", "population.file", 4,
     "used only with population.source: file (this scenario uses synthetic)"),
    ("population:\n  source: file\n  file: firms.csv\n  n_industrial: 100\n",
     "population.n_industrial", 6,
     "used only with population.source: synthetic (this scenario uses file)"),
    ("population:\n  source: file\n  file: firms.csv\n  n_services: 0\n",
     "population.n_services", 6,
     "used only with population.source: synthetic (this scenario uses file)"),
    ("population:\n  source: file\n  file: firms.csv\n  calibrate: false\n",
     "population.calibrate", 6,
     "used only with population.source: synthetic (this scenario uses file)"),
    ("population:\n  source: file\n  file: firms.csv\n  targets: {va_per_mu_wan_yuan: 90}\n",
     "population.targets", 6,
     "used only with population.source: synthetic (this scenario uses file)"),
], ids=["file", "n_industrial", "n_services", "calibrate", "targets"])
def test_a_population_field_the_source_ignores_is_an_error(tmp_path, body, field, line,
                                                           message):
    err = error_of(variant(tmp_path, body))
    assert (Path(err.file).name, err.line, err.field) == ("variant.yaml", line, field)
    assert err.message == message


def test_validate_prints_the_ignored_field_with_file_line_and_exits_2(tmp_path, capsys,
                                                                     monkeypatch):
    from simulator.cli import main

    path = variant(tmp_path, "population:\n  file: firms.csv\n")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err == (
        "error: variant.yaml:4: population.file: used only with population.source: file "
        "(this scenario uses synthetic)\n")


def test_source_only_fields_left_at_their_defaults_are_accepted(tmp_path):
    # The baseline's counts equal the defaults; writing a default out is not an error.
    s = load_scenario(variant(tmp_path, """
        population:
          source: file
          file: firms.csv
          n_industrial: 5000
          calibrate: true
    """))
    assert (s.population.source, Path(s.population.file).name) == ("file", "firms.csv")
    assert (s.population.n_industrial, s.population.calibrate) == (5000, True)


def test_a_variant_switching_source_drops_what_its_base_set_for_the_other(tmp_path):
    # The base's counts were given for its synthetic firms; its variant cannot unset them.
    write(tmp_path, "county.yaml", "extends: baseline.yaml\nname: county\n"
                                   "population: {n_industrial: 20000, n_services: 100}\n")
    variant(tmp_path, "")  # copies the baseline
    own = write(tmp_path, "own.yaml", "extends: county.yaml\nname: own\n"
                                      "population: {source: file, file: firms.csv}\n")
    s = load_scenario(own)
    assert s.population.source == "file"
    assert (s.population.n_industrial, s.population.n_services) == (5000, 1500)
    back = write(tmp_path, "back.yaml", "extends: own.yaml\nname: back\n"
                                        "population: {source: synthetic}\n")
    assert load_scenario(back).population.file is None
    # A file extending the one that chose the source is refused, as in the same file.
    more = write(tmp_path, "more.yaml", "extends: own.yaml\nname: more\n"
                                        "population: {n_industrial: 300}\n")
    err = error_of(more)
    assert (Path(err.file).name, err.line, err.field) == ("more.yaml", 3,
                                                          "population.n_industrial")


def test_changes_set_a_field_the_source_ignores_are_refused(tmp_path):
    s = load_scenario(variant(tmp_path, "population: {source: file, file: firms.csv}\n"))
    assert apply_changes(s, {"seed": 7}).seed == 7  # the dumped defaults are not "given"
    with pytest.raises(ScenarioError) as info:
        apply_changes(s, {"population.n_industrial": 100})
    assert info.value.field == "population.n_industrial"
    assert "used only with population.source: synthetic" in info.value.message


@pytest.mark.parametrize("path", sorted(
    p for folder in (BASELINE.parent, Path(__file__).parent / "scenarios")
    for p in folder.glob("*.yaml")
    if not p.name.startswith(("sweep_", "bad_"))), ids=lambda p: p.name)
def test_every_shipped_scenario_still_loads(path):
    assert load_scenario(path).population.source == "synthetic"
