# Every target here works on a fresh clone: the venv is made and filled on first use.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
OUT ?= out

.PHONY: run rate test lint typecheck unit integration bench clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[stream,dev]'
	@touch $@

## The main job on its default: local Kafka and ClickHouse, the sample CDRs through the
## streaming pipeline, and the summary read back from ClickHouse.
run: $(BIN)/.installed
	deploy/local/main-job

## The same sample CDRs offline, no servers: $(OUT)/*.jsonl and an embedded warehouse.
rate: $(BIN)/.installed
	rm -rf $(OUT)/warehouse
	$(BIN)/cdr-pipeline rate --catalog samples/catalog --payments samples/payments.csv \
		--source-tz America/New_York --warehouse $(OUT)/warehouse --out $(OUT) \
		samples/cdrs/calls.csv samples/cdrs/Master.csv samples/cdrs/freeswitch.csv

## The whole test suite: lint, types, unit, end-to-end and integration tests.
test: lint typecheck
	$(BIN)/pytest -q

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

unit: $(BIN)/.installed
	$(BIN)/pytest -q tests/unit tests/e2e

integration: $(BIN)/.installed
	$(BIN)/pytest -q -m integration tests/integration

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks.bench_rating

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .pytest_cache .ruff_cache
