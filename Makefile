# Two commands get a newcomer from clone to result: `make demo` and `make test`.
SHELL := /bin/bash
comma := ,
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Extras of pyproject.toml to install: `make test EXTRAS=dev,spark,semantic` adds PySpark and
# MetricFlow's `mf` (CI does; without them the Spark and semantic-layer tests skip).
EXTRAS ?= dev
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)-$(subst $(comma),-,$(EXTRAS))
DBT := DO_NOT_TRACK=1 $(BIN)/dbt
DBT_FLAGS := --profiles-dir $(or $(DBT_PROFILES_DIR),.)
PY_PATHS := reporter demo_data tests $(wildcard dashboards bench)
DEMO_WEEKS ?= 12
DEMO_ROWS_PER_DAY ?= 500
DASHBOARD_PORT ?= 8501
# pytest workers (pytest-xdist): the suite mostly waits on dbt subprocesses, so one per core.
# TEST_WORKERS=0 runs it in one process (pdb, -x).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
# make bench: the sizes (evaluations, comma-separated) of each engine; "" or 0 skips an
# engine. The defaults are the table of docs/performance.md, every row in one run (about
# an hour on 2 cores; the Spark row needs the spark extra). 100M runs only on request
# (about an hour more, 21 GB of memory and 56 GB of free disk; docs/performance.md):
#   make bench BENCH_SIZES=1000000,10000000,100000000
#   make bench BENCH_POSTGRES_SIZES=0 BENCH_SPARK_SIZES=0   # DuckDB only, about 12 minutes
BENCH_SIZES ?= 1000000,10000000
BENCH_POSTGRES_SIZES ?= 1000000,10000000
BENCH_SPARK_SIZES ?= 1000000

export DO_NOT_TRACK := 1

.PHONY: install demo test test-spark lint format build dashboard bench clean

# pip's own output is hundreds of lines; one line per package it fetches shows progress.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing Python packages into $(VENV) (about 80 s the first time)"
	@set -o pipefail; $(BIN)/pip install --disable-pip-version-check --progress-bar off \
		-e '.[$(EXTRAS)]' | { grep --line-buffered -E '^(Collecting|Successfully installed)' \
		| sed -u -e 's/^Collecting /  fetched /' -e 's/ (from .*//' || true; }
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

profiles.yml:
	cp profiles.example.yml profiles.yml

## demo: demo data into the embedded DuckDB warehouse, dbt build, the weekly table, then the
## Slack report of the latest complete week (preview: nothing is sent)
demo: $(STAMP) profiles.yml
	@echo "==> [1/4] demo data: $(DEMO_WEEKS) weeks, $(DEMO_ROWS_PER_DAY) responses a day"
	$(BIN)/python -m reporter demo --weeks $(DEMO_WEEKS) --rows-per-day $(DEMO_ROWS_PER_DAY) --seed 1
	@echo "==> [2/4] dbt build: every model and test, one line each (about 30 s)"
	$(DBT) build $(DBT_FLAGS) $$(test -t 1 || echo --no-use-colors)
	@echo "==> [3/4] the weekly table and the report of the latest complete week"
	$(BIN)/python -m reporter weekly
	$(BIN)/python -m reporter preview
	@echo "==> [4/4] the model-tuning datasets"
	$(BIN)/python -m reporter export-dataset --kind sft --out out/dataset/sft && $(BIN)/python -m reporter export-dataset --kind preference --out out/dataset/preference && $(BIN)/python -m reporter export-dataset --kind disagreements --out out/dataset/disagreements

## build: dbt build against the default target (DBT_TARGET=postgres for PostgreSQL); on
## DuckDB it first waits, bounded and saying so, for readers of the file (an open dashboard)
build: $(STAMP) profiles.yml
	$(BIN)/python -m reporter.pipeline $(DBT_FLAGS)

## dashboard: the Streamlit app on http://127.0.0.1:8501/ (DASHBOARD_PORT), reading the marts
## through profiles.yml and its target (DBT_TARGET); see docs/dashboard.md
dashboard: $(STAMP) profiles.yml
	$(BIN)/python -m streamlit run dashboards/dashboard.py --server.address 127.0.0.1 --server.port $(DASHBOARD_PORT)

## test: lint, then the whole suite (pytest drives dbt on DuckDB, PostgreSQL and, where Java
## and PySpark are installed, Spark; without them the Spark tests skip and say why)
test: $(STAMP) profiles.yml lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

## lint: ruff, then sqlfluff on every core (39 s on one core, 22 s on two: it runs before the tests)
lint: $(STAMP) profiles.yml
	$(BIN)/ruff check $(PY_PATHS)
	$(BIN)/ruff format --check $(PY_PATHS)
	$(BIN)/sqlfluff lint --processes 0 models tests

format: $(STAMP)
	$(BIN)/ruff format $(PY_PATHS)
	$(BIN)/ruff check --fix $(PY_PATHS)
	$(BIN)/sqlfluff fix models tests

## bench: the benchmark of docs/performance.md (dbt full refresh, incremental day, the
## hand-written floor query, the week-13 pandas baseline); prints the table
bench: $(STAMP) profiles.yml
	$(BIN)/python bench/run.py --sizes $(BENCH_SIZES) \
		--postgres-sizes $(BENCH_POSTGRES_SIZES) --spark-sizes $(BENCH_SPARK_SIZES)

## test-spark: only the Spark suite (needs Java 17; installs the spark extra)
test-spark: profiles.yml
	$(MAKE) install EXTRAS=dev,spark
	$(BIN)/python -m pytest -m spark $(PYTEST_ARGS)

clean:
	rm -rf target logs warehouse.duckdb .pytest_cache
