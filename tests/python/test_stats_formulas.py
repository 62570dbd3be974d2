"""The statistics macros (macros/stats.sql), evaluated by the warehouse, against scipy.

One `dbt show --inline` query per engine evaluates every macro on a grid of inputs; the
expected values are computed here with scipy, which shares nothing with the SQL.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from reporter.warehouse import PROJECT_DIR

SEED = PROJECT_DIR / "seeds" / "t_critical_values.csv"

CONFIDENCES = (0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
T_VALUES = (0.0, 0.5, 1.0, 1.96, 2.5, 4.0, 10.0)
P_DF = (1, 2, 2.5, 3, 4, 5, 7.3, 10, 30, 200)
WILSON = ((0, 10), (10, 10), (0, 1), (1, 1), (1, 2), (3, 4), (52, 63), (412, 500))
# (n, mean, sd) pairs with unequal variances and unequal sizes.
WELCH = (
    ((20, 8.0, 0.5), (5, 7.0, 2.0)),
    ((412, 8.3, 1.2), (380, 8.1, 1.9)),
    ((3, 6.0, 1.0), (40, 7.5, 0.3)),
    ((2, 5.0, 1.4142135623730951), (2, 9.0, 0.7071067811865476)),
    ((30, 7.0, 0.0), (30, 7.4, 1.1)),
)
# Changes that are not tested: no spread in either week, a single value; all likes, no reactions.
UNTESTED_WELCH = (((5, 7.0, 0.0), (8, 6.0, 0.0)), ((1, 7.0, 0.0), (9, 6.0, 1.0)))
UNTESTED_PROPORTIONS = (((10, 10), (5, 5)), ((0, 0), (3, 9)))
# Probabilities for the normal quantile: both tails, the three branches of AS241 and their edges.
QUANTILE_P = (
    1e-300,
    1e-12,
    1e-6,
    0.001,
    0.01,
    0.025,
    0.05,
    0.0749,
    0.075,
    0.2,
    0.5,
    0.8,
    0.9,
    0.925,
    0.9251,
    0.975,
    0.999,
    1 - 1e-9,
)
PROPORTIONS = (
    ((45, 60), (30, 60)),
    ((52, 63), (47, 60)),
    ((3, 4), (1, 9)),
    ((270, 500), (300, 500)),
)

DEVIATE = "t_normal_deviate('a', 'b')"
WELCH_T = "(b - e) / sqrt(' ~ welch_variance('c', 'a', 'f', 'd') ~ ')"
WELCH_DF = "welch_df('c', 'a', 'f', 'd')"
# Each grid: its inputs as columns a..f, and the macro expressions as v1, v2.
GRIDS: dict[str, tuple[list[tuple], str, str]] = {
    "t_table_df": (
        [(df,) for df in (0.5, 1, 1.5, 2, 2.99, 199.5, 200, 123456)],
        "{{ t_table_df('a') }}",
        "null",
    ),
    **{
        f"t_large_df_{conf}": (
            [(df,) for df in (150, 200, 200.5, 343, 1000, 100000)],
            f"{{{{ t_critical_value_large_df('a', {conf}) }}}}",
            "null",
        )
        for conf in CONFIDENCES
    },
    "t_p_value": (
        [(t, df) for t in T_VALUES for df in P_DF],
        "{{ t_two_sided_p_value('a', 'b', " + DEVIATE + ") }}",
        "null",
    ),
    "normal_cdf": ([(x / 4,) for x in range(-32, 33)], "{{ normal_cdf('a') }}", "null"),
    **{
        f"wilson_{conf}": (
            list(WILSON) + [(0, 0)],
            f"{{{{ wilson_bound('a', 'b', {conf}, 'low') }}}}",
            f"{{{{ wilson_bound('a', 'b', {conf}, 'high') }}}}",
        )
        for conf in CONFIDENCES
    },
    "welch": (
        [(*a, *b) for a, b in WELCH],
        "{{ " + WELCH_DF + " }}",
        "{{ t_two_sided_p_value('" + WELCH_T + "', " + WELCH_DF + ", "
        "t_normal_deviate('" + WELCH_T + "', " + WELCH_DF + ")) }}",
    ),
    "two_proportion": (
        [(*a, *b) for a, b in (*PROPORTIONS, *UNTESTED_PROPORTIONS)],
        "{{ normal_two_sided_p_value(two_proportion_z('a', 'b', 'c', 'd')) }}",
        "null",
    ),
    "normal_quantile": ([(p,) for p in QUANTILE_P], "{{ normal_quantile('a') }}", "null"),
    # At the default var('alpha') 0.05 and var('power') 0.8.
    "mean_mde": (
        [(*a, *b) for a, b in (*WELCH, *UNTESTED_WELCH)],
        "{{ mean_detectable_change('c', 'a', 'f', 'd') }}",
        "null",
    ),
    "proportion_mde": (
        [(*a, *b) for a, b in (*PROPORTIONS, *UNTESTED_PROPORTIONS)],
        "{{ proportion_detectable_change('a', 'b', 'c', 'd') }}",
        "null",
    ),
}
COLUMNS = ("a", "b", "c", "d", "e", "f")


def grid_query() -> str:
    """Every grid in one query, so that each engine costs one dbt call."""

    def literal(value: object) -> str:
        shown = "null" if value is None else repr(float(value))
        return f"cast({shown} as {{{{ type_double() }}}})"

    selects = []
    for name, (rows, first, second) in GRIDS.items():
        padded = [tuple(row) + (None,) * (len(COLUMNS) - len(row)) for row in rows]
        values = ",\n".join("(" + ", ".join(literal(v) for v in row) + ")" for row in padded)
        selects.append(
            f"select '{name}' as grid, {', '.join(COLUMNS)}, "
            f"cast({first} as {{{{ type_double() }}}}) as v1, "
            f"cast({second} as {{{{ type_double() }}}}) as v2 "
            f"from (values {values}) as {name.replace('.', '_')}_rows({', '.join(COLUMNS)})"
        )
    return "\nunion all\n".join(selects)


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def evaluated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """{grid: [row, ...]} as the warehouse computed it, keyed by the input tuple."""
    from conftest import require_postgres
    from warehouses import new_warehouse

    if request.param == "postgres":
        require_postgres()
    root: Path = tmp_path_factory.mktemp(f"stats_{request.param}")
    warehouse = new_warehouse(request.param, root)
    try:
        result = warehouse.dbt(
            "show", "--inline", grid_query(), "--limit", "-1", "--output", "json", "--quiet"
        )
    finally:
        warehouse.drop()
    rows = json.loads(result.stdout[result.stdout.index("{") :])["show"]
    by_grid: dict[str, dict[tuple, tuple]] = defaultdict(dict)
    for row in rows:
        key = tuple(row[c] for c in COLUMNS if row[c] is not None)
        by_grid[row["grid"]][key] = (row["v1"], row["v2"])
    assert sum(len(grid) for grid, _, _ in GRIDS.values()) == len(rows)
    return by_grid


def value(evaluated, grid: str, *key: float) -> tuple:
    return evaluated[grid][tuple(float(k) for k in key)]


def test_t_critical_value_seed_matches_scipy() -> None:
    rows = list(csv.DictReader(SEED.open()))
    levels = {float(row["confidence_level"]) for row in rows}
    assert levels == {0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999}
    for row in rows:
        level, df = float(row["confidence_level"]), int(row["df"])
        expected = stats.t.ppf((1 + level) / 2, df)
        assert float(row["t_critical_value"]) == pytest.approx(expected, rel=1e-12), row
    for level in levels:
        dfs = {int(row["df"]) for row in rows if float(row["confidence_level"]) == level}
        assert dfs == set(range(1, 200))


def test_t_table_df_never_gives_a_narrower_interval(evaluated) -> None:
    # A fractional df uses the whole df below it (a larger t); from 200 on, no row.
    expected = {0.5: None, 1: 1, 1.5: 1, 2: 2, 2.99: 2, 199.5: 199, 200: None, 123456: None}
    for df, row_df in expected.items():
        assert value(evaluated, "t_table_df", df)[0] == row_df, df


@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_t_critical_value_for_large_df_matches_scipy(evaluated, confidence: float) -> None:
    assert value(evaluated, f"t_large_df_{confidence}", 150)[0] is None
    for df in (200, 200.5, 343, 1000, 100000):
        got = value(evaluated, f"t_large_df_{confidence}", df)[0]
        assert got == pytest.approx(stats.t.ppf((1 + confidence) / 2, df), rel=1e-9), df


def test_t_p_value_matches_scipy(evaluated) -> None:
    for t in T_VALUES:
        for df in P_DF:
            got = value(evaluated, "t_p_value", t, df)[0]
            expected = 2 * stats.t.sf(t, df)
            tolerance = 1e-9 if df in (1, 2) else 5e-4 if df < 3 else 5e-5 if df < 5 else 1e-6
            assert got == pytest.approx(expected, abs=tolerance), (t, df)


def test_normal_cdf_matches_scipy(evaluated) -> None:
    for x in range(-32, 33):
        assert value(evaluated, "normal_cdf", x / 4)[0] == pytest.approx(
            stats.norm.cdf(x / 4), abs=1e-7
        )


@pytest.mark.parametrize("confidence", CONFIDENCES)
@pytest.mark.parametrize(("likes", "n"), WILSON)
def test_wilson_interval_matches_scipy(evaluated, likes: int, n: int, confidence: float) -> None:
    low, high = value(evaluated, f"wilson_{confidence}", likes, n)
    expected = stats.binomtest(likes, n).proportion_ci(confidence_level=confidence, method="wilson")
    assert low == pytest.approx(expected.low, abs=1e-7)
    assert high == pytest.approx(expected.high, abs=1e-7)
    assert -1e-12 <= low <= likes / n <= high + 1e-12 <= 1 + 2e-12


def test_wilson_without_trials_is_null(evaluated) -> None:
    assert evaluated["wilson_0.95"][(0.0, 0.0)] == (None, None)


@pytest.mark.parametrize(("this_week", "last_week"), WELCH)
def test_welch_matches_scipy_with_unequal_variances(evaluated, this_week, last_week) -> None:
    df, p = value(evaluated, "welch", *this_week, *last_week)
    (n1, m1, s1), (n2, m2, s2) = this_week, last_week
    expected = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=False)
    v1, v2 = s1 * s1 / n1, s2 * s2 / n2
    expected_df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    assert df == pytest.approx(expected_df, rel=1e-9)
    if expected_df < 2:
        # A fractional df below 2 rounds down to 1: a larger p-value, never a smaller one.
        assert p == pytest.approx(2 * stats.t.sf(abs(expected.statistic), 1), abs=1e-9)
        assert p > expected.pvalue
    else:
        assert p == pytest.approx(expected.pvalue, abs=1e-3 if expected_df < 3 else 1e-5)


def test_welch_differs_from_the_pooled_test(evaluated) -> None:
    # 7.0 (n=5, sd 2) against 8.0 (n=20, sd 0.5): pooled says p < 0.05, Welch does not.
    p = value(evaluated, "welch", *WELCH[0][0], *WELCH[0][1])[1]
    pooled = stats.ttest_ind_from_stats(8.0, 0.5, 20, 7.0, 2.0, 5, equal_var=True).pvalue
    assert pooled < 0.05 < p


@pytest.mark.parametrize(("this_week", "last_week"), PROPORTIONS)
def test_two_proportion_test_matches_scipy(evaluated, this_week, last_week) -> None:
    p = value(evaluated, "two_proportion", *this_week, *last_week)[0]
    (k1, n1), (k2, n2) = this_week, last_week
    # The pooled two-proportion z test is Pearson's chi-square test of the 2x2 table.
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    expected = stats.chi2_contingency(table, correction=False).pvalue
    assert p == pytest.approx(expected, abs=2e-7)  # twice the normal CDF error bound


@pytest.mark.parametrize(("this_week", "last_week"), UNTESTED_PROPORTIONS)
def test_untested_proportions_have_no_p_value(evaluated, this_week, last_week) -> None:
    # All likes in both weeks, or no reactions: no test, so no p-value (a 1.0 here would
    # join the Benjamini-Hochberg family and raise the other segments' q-values).
    assert value(evaluated, "two_proportion", *this_week, *last_week)[0] is None


def test_normal_quantile_matches_scipy(evaluated) -> None:
    for p in QUANTILE_P:
        got = value(evaluated, "normal_quantile", p)[0]
        assert got == pytest.approx(stats.norm.ppf(p), rel=1e-13, abs=1e-13), p


def test_normal_quantile_is_null_outside_0_to_1(make_warehouse) -> None:
    warehouse = make_warehouse("duckdb")
    result = warehouse.dbt(
        "show",
        "--inline",
        "select {{ normal_quantile(0) }} as at_0, {{ normal_quantile(1) }} as at_1, "
        "{{ normal_quantile(-0.5) }} as below, {{ normal_quantile(0.8) }} as power_80",
        "--output",
        "json",
        "--quiet",
    )
    (row,) = json.loads(result.stdout[result.stdout.index("{") :])["show"]
    assert row["at_0"] is None and row["at_1"] is None and row["below"] is None
    assert row["power_80"] == pytest.approx(stats.norm.ppf(0.8), rel=1e-14)


DETECTABLE_FACTOR = stats.norm.ppf(1 - 0.05 / 2) + stats.norm.ppf(0.8)


def test_mean_detectable_change_matches_the_formula(evaluated) -> None:
    for (n1, m1, s1), (n2, m2, s2) in WELCH:
        got = value(evaluated, "mean_mde", n1, m1, s1, n2, m2, s2)[0]
        expected = DETECTABLE_FACTOR * math.sqrt(s1 * s1 / n1 + s2 * s2 / n2)
        assert got == pytest.approx(expected, rel=1e-12), (n1, n2)
    # Untested changes have no detectable change: no spread at all, or a single value.
    assert value(evaluated, "mean_mde", 5, 7.0, 0.0, 8, 6.0, 0.0)[0] is None
    assert value(evaluated, "mean_mde", 1, 7.0, 0.0, 9, 6.0, 1.0)[0] is None


def test_proportion_detectable_change_matches_the_formula(evaluated) -> None:
    for (k1, n1), (k2, n2) in PROPORTIONS:
        got = value(evaluated, "proportion_mde", k1, n1, k2, n2)[0]
        pooled = (k1 + k2) / (n1 + n2)
        expected = DETECTABLE_FACTOR * math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        assert got == pytest.approx(expected, rel=1e-12), (k1, n1, k2, n2)
    assert value(evaluated, "proportion_mde", 10, 10, 5, 5)[0] is None  # every reaction a like
    assert value(evaluated, "proportion_mde", 0, 0, 3, 9)[0] is None  # no reactions this week


@pytest.mark.parametrize(("alpha", "power"), [(0.05, 0.8), (0.01, 0.9), (0.05, 0.99)])
def test_detectable_change_factor_matches_scipy(make_warehouse, alpha, power) -> None:
    # A constant computed at compile time for powers up to 0.925, SQL arithmetic beyond.
    warehouse = make_warehouse("duckdb", alpha=alpha, power=power)
    result = warehouse.dbt(
        "show",
        "--inline",
        "select {{ detectable_change_factor() }} as factor",
        "--output",
        "json",
        "--quiet",
    )
    (row,) = json.loads(result.stdout[result.stdout.index("{") :])["show"]
    expected = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    assert row["factor"] == pytest.approx(expected, rel=1e-14)


BH_QUERY = """
with ranked as (
    select
        family,
        item,
        p,
        {{ p_value_rank('p', ['family'], ['item']) }} as p_rank,
        {{ p_value_family_size('p', ['family']) }} as test_count
    from families
)
select
    family,
    item,
    {{ benjamini_hochberg_q_value('p', 'p_rank', 'test_count', ['family']) }} as q
from ranked
"""


@pytest.fixture(scope="module")
def bh_sql(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Benjamini–Hochberg macros compiled once for DuckDB, over a table `families`."""
    from warehouses import new_warehouse

    warehouse = new_warehouse("duckdb", tmp_path_factory.mktemp("bh"))
    result = warehouse.dbt("compile", "--inline", BH_QUERY, "--output", "json", "--quiet")
    return json.loads(result.stdout[result.stdout.index("{") :])["compiled"]


P_VALUES = st.one_of(st.none(), st.sampled_from([0.0, 0.01, 0.05, 1.0]), st.floats(0, 1))


@settings(max_examples=150, deadline=None)
@given(families=st.lists(st.lists(P_VALUES, min_size=1, max_size=12), min_size=1, max_size=4))
def test_benjamini_hochberg_macros_match_scipy_with_untested_rows(bh_sql, families) -> None:
    """Each family's q-values equal scipy's over its p-values; a row without a p-value (an
    untested segment) has no q-value and changes no other row's."""
    import duckdb

    rows = [(f, i, p) for f, ps in enumerate(families) for i, p in enumerate(ps)]
    with duckdb.connect() as conn:
        conn.execute("create table families (family integer, item integer, p double)")
        conn.executemany("insert into families values (?, ?, ?)", rows)
        got = {(f, i): q for f, i, q in conn.execute(bh_sql).fetchall()}
    for f, ps in enumerate(families):
        tested = [i for i, p in enumerate(ps) if p is not None]
        p_values = [ps[i] for i in tested]
        expected = stats.false_discovery_control(p_values, method="bh") if tested else []
        for i, q in zip(tested, expected, strict=True):
            assert got[(f, i)] == pytest.approx(q, rel=1e-12, abs=1e-15)
        assert all(got[(f, i)] is None for i, p in enumerate(ps) if p is None)
