"""The dbt project's conventions, read from the manifest, so they cannot quietly regress:
dbt-project-evaluator's rules as this project keeps them (docs/conventions.md).

- each model's description, columns, tests and unit tests in one YAML file beside its SQL;
- each model's grain tested; every column of every model documented;
- what exposures read is public, contracted and documented; every model reads something;
- each raw table's freshness checked, its source in its own folder under staging;
- a public mart's contract changes only by adding columns or models; anything else is a
  new model version (the contracts as released: golden/mart_contracts.json).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from warehouses import new_warehouse

from reporter.warehouse import PROJECT_DIR

if TYPE_CHECKING:  # imported at run time, pytest would try to collect it as a test class
    from warehouses import TestWarehouse

Manifest = dict[str, Any]

# The public marts' contracts as released (DuckDB's type names): {model: {column: type}}.
RELEASED_CONTRACTS = Path(__file__).parent / "golden" / "mart_contracts.json"

# Tests that pin a model's grain. A key column needs both `unique` and `not_null` (the
# not_null may be a contract constraint); a key of several columns is one test.
KEY_OF_SEVERAL_COLUMNS = "unique_combination_of_columns"
# Rows that are raw rows have no key (a repeated delivery is an identical copy): their
# grain test compares the row count with the relation whose rows they are.
ONE_ROW_PER_ROW_OF = "one_row_per_row_of"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """`dbt parse` of the project, as dbt-project-evaluator would read it."""
    warehouse = new_warehouse("duckdb", tmp_path_factory.mktemp("conventions"))
    warehouse.dbt("parse")
    return json.loads((warehouse.root / "target" / "manifest.json").read_text())


def _models(manifest: Manifest) -> dict[str, dict[str, Any]]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "ai_performance"
    }


def _data_tests_by_model(manifest: Manifest) -> dict[str, list[dict[str, Any]]]:
    tests: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test":
            for parent in node["depends_on"]["nodes"]:
                tests[parent].append(node)
    return tests


def _yaml_path(node: dict[str, Any]) -> str:
    return node["patch_path"].split("://", 1)[1] if node.get("patch_path") else ""


def test_each_model_has_its_own_yaml_file_beside_its_sql(manifest: Manifest) -> None:
    misplaced = {
        name: _yaml_path(node) or "no YAML"
        for name, node in _models(manifest).items()
        if _yaml_path(node) != str(Path(node["original_file_path"]).with_suffix(".yml"))
    }
    assert not misplaced, f"models whose YAML is not <model>.yml beside the SQL: {misplaced}"

    shared = {}
    for name, node in _models(manifest).items():
        listed = yaml.safe_load((PROJECT_DIR / _yaml_path(node)).read_text())
        others = [model["name"] for model in listed.get("models", []) if model["name"] != name]
        if others:
            shared[_yaml_path(node)] = others
    assert not shared, f"YAML files describing more than their own model: {shared}"

    models = _models(manifest)
    away = {
        test["name"]: test["original_file_path"]
        for test in manifest["unit_tests"].values()
        if test["original_file_path"] != _yaml_path(models[test["model"]])
    }
    assert not away, f"unit tests outside their model's YAML file: {away}"


def _ancestors(manifest: Manifest, unique_id: str) -> set[str]:
    seen: set[str] = set()
    todo = list(manifest["parent_map"].get(unique_id, []))
    while todo:
        parent = todo.pop()
        if parent not in seen:
            seen.add(parent)
            todo += manifest["parent_map"].get(parent, [])
    return seen


def _tests_grain(manifest: Manifest, node: dict[str, Any], tests: list[dict[str, Any]]) -> bool:
    names_by_column: dict[str | None, set[str]] = defaultdict(set)
    for test in tests:
        if test.get("attached_node") != node["unique_id"] or not test.get("test_metadata"):
            continue
        name = test["test_metadata"]["name"]
        if name in (KEY_OF_SEVERAL_COLUMNS, ONE_ROW_PER_ROW_OF):
            return True
        names_by_column[test.get("column_name")].add(name)
    for column, names in names_by_column.items():
        constraints = node["columns"].get(column or "", {}).get("constraints", [])
        not_null = "not_null" in names or any(c["type"] == "not_null" for c in constraints)
        if column and "unique" in names and not_null:
            return True
    # A grain that only a singular test can state (rows of several parents), named in the
    # model's YAML: the test must exist and read the model, directly or through others.
    singular = node["config"].get("meta", {}).get("grain_test")
    return any(
        test["resource_type"] == "test"
        and test["name"] == singular
        and not test.get("test_metadata")
        and node["unique_id"] in _ancestors(manifest, test["unique_id"])
        for test in manifest["nodes"].values()
    )


def test_every_model_tests_its_grain(manifest: Manifest) -> None:
    tests = _data_tests_by_model(manifest)
    untested = sorted(
        name
        for name, node in _models(manifest).items()
        if not _tests_grain(manifest, node, tests[node["unique_id"]])
    )
    assert not untested, (
        f"models without a test of their grain (unique + not_null on the key, "
        f"{KEY_OF_SEVERAL_COLUMNS} or {ONE_ROW_PER_ROW_OF}): {untested}"
    )


def test_every_model_has_a_description_stating_its_grain(manifest: Manifest) -> None:
    vague = sorted(
        name
        for name, node in _models(manifest).items()
        if "one row" not in node["description"].lower()
    )
    assert not vague, f"model descriptions that do not say what one row is: {vague}"


def _columns(warehouse: TestWarehouse, node: dict[str, Any]) -> list[str]:
    rows = warehouse.query(
        "select column_name from information_schema.columns"
        f" where table_schema = '{node['schema']}' and table_name = '{node['alias']}'"
        " order by ordinal_position"
    )
    return [row["column_name"] for row in rows]


def test_every_column_of_every_model_is_documented(demo_duckdb: TestWarehouse) -> None:
    """The columns each model really has (the built demo warehouse), against its YAML."""
    built = json.loads((demo_duckdb.root / "target" / "manifest.json").read_text())
    undocumented, stale = {}, {}
    for name, node in _models(built).items():
        columns = _columns(demo_duckdb, node)
        assert columns, f"{name} is not in the demo warehouse"
        documented = {
            column for column, info in node["columns"].items() if info["description"].strip()
        }
        if missing := [column for column in columns if column not in documented]:
            undocumented[name] = missing
        if extra := sorted(set(node["columns"]) - set(columns)):
            stale[name] = extra
    assert not undocumented, f"columns without a description: {undocumented}"
    assert not stale, f"documented columns the model does not have: {stale}"


def test_exposures_read_only_public_contracted_models(manifest: Manifest) -> None:
    exposed = {
        parent
        for exposure in manifest["exposures"].values()
        for parent in exposure["depends_on"]["nodes"]
    }
    assert exposed, "no exposure depends on a model"
    nodes = manifest["nodes"]
    not_public = sorted(nodes[p]["name"] for p in exposed if nodes[p].get("access") != "public")
    assert not not_public, f"exposures read models that are not access: public: {not_public}"
    public = [node for node in _models(manifest).values() if node["access"] == "public"]
    uncontracted = sorted(n["name"] for n in public if not n["config"]["contract"]["enforced"])
    assert not uncontracted, f"public models without an enforced contract: {uncontracted}"
    outside_marts = sorted(
        n["name"] for n in public if not n["original_file_path"].startswith("models/marts/")
    )
    assert not outside_marts, f"public models outside models/marts: {outside_marts}"


def test_every_model_reads_a_model_a_source_or_a_seed(manifest: Manifest) -> None:
    roots = sorted(
        name for name, node in _models(manifest).items() if not node["depends_on"]["nodes"]
    )
    assert not roots, f"root models (no ref, no source): {roots}"


def test_every_raw_table_has_freshness_and_its_own_source_folder(manifest: Manifest) -> None:
    sources = list(manifest["sources"].values())
    assert {source["name"] for source in sources} == {
        "conversation_log",
        "conversation_evaluation",
        "feedback_log",
    }
    for source in sources:
        freshness = source["freshness"] or {}
        assert source["loaded_at_field"], f"{source['name']} has no loaded_at_field"
        for threshold in ("warn_after", "error_after"):
            assert (freshness.get(threshold) or {}).get("count"), (
                f"{source['name']} has no freshness {threshold}"
            )
        name = source["source_name"]
        expected = f"models/staging/{name}/_{name}__sources.yml"
        assert source["original_file_path"] == expected, source["original_file_path"]

    models = _models(manifest)
    for node in models.values():
        for parent in node["depends_on"]["nodes"]:
            if parent.startswith("source."):
                name = manifest["sources"][parent]["source_name"]
                folder = f"models/staging/{name}/"
                assert node["original_file_path"].startswith(folder), (
                    f"{node['name']} reads source {name} but is not in {folder}"
                )


def _public_contracts(manifest: Manifest) -> dict[str, dict[str, str]]:
    """Each public mart's latest version's columns and types, as BI tools see them."""
    contracts: dict[str, dict[str, str]] = {}
    for node in _models(manifest).values():
        if node["access"] != "public":
            continue
        if node.get("version") is not None and node["version"] != node.get("latest_version"):
            continue
        contracts[node["name"]] = {
            name: str(column.get("data_type")) for name, column in node["columns"].items()
        }
    return dict(sorted(contracts.items()))


def test_public_contracts_change_only_by_adding(manifest: Manifest) -> None:
    """A BI tool's query of a released mart keeps working: a column or a model that goes
    away, or a column whose type changes, needs a new model version (`versions:` in the
    model's YAML, the old one kept for a deprecation window; docs/conventions.md).
    Additions are recorded with UPDATE_GOLDEN=1."""
    current = _public_contracts(manifest)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        RELEASED_CONTRACTS.write_text(json.dumps(current, indent=2) + "\n")
    released: dict[str, dict[str, str]] = json.loads(RELEASED_CONTRACTS.read_text())
    broken = [
        f"{model}.{column} ({data_type} -> {current.get(model, {}).get(column, 'gone')})"
        for model, columns in released.items()
        for column, data_type in columns.items()
        if current.get(model, {}).get(column) != data_type
    ]
    assert not broken, f"breaking contract changes without a new model version: {broken}"
    added = sorted(
        f"{model}.{column}"
        for model, columns in current.items()
        for column in columns
        if column not in released.get(model, {})
    )
    assert not added, f"new public columns: record them with UPDATE_GOLDEN=1: {added}"
