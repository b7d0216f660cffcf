# The targets are what README.md tells a person to type.
VENV    := .venv
BIN     := $(VENV)/bin
PYTHON  ?= python3
PORT    ?= 5000
CUSTOMERS ?= 1000000
export FLASK_APP := wsgi
export PORT

.PHONY: run test bench notebooks lint format setup translations vendor system-deps clean

run: setup ## set up, migrate, load demo data if empty, serve on http://127.0.0.1:$(PORT)
	bash scripts/run.sh

test: setup system-deps ## lint and run the whole suite (SQLite, PostgreSQL, Chromium)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest

bench: setup system-deps ## rerun the benchmarks (SQLite, PostgreSQL) and rewrite docs/performance.md
	$(BIN)/python -m bench.run --customers $(CUSTOMERS)

notebooks: setup ## JupyterLab on analytics/, reading the app's database (CRM_DATABASE_URL, else instance/)
	$(BIN)/pip install --quiet -e '.[dev,notebooks]'
	CRM_DATABASE_URL="$${CRM_DATABASE_URL:-sqlite:///$(CURDIR)/instance/crm.sqlite3}" \
	PYTHONPATH="$(CURDIR)" $(BIN)/jupyter lab --notebook-dir=analytics

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

setup: $(VENV)/.installed translations vendor

# Browser libraries (ECharts) from the npm registry, pinned in package-lock.json, served by
# the app from crm/static/vendor: pages never load a script from another site.
vendor: crm/static/vendor/echarts.min.js

crm/static/vendor/echarts.min.js: package.json package-lock.json scripts/vendor.sh
	bash scripts/vendor.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d crm/translations >/dev/null

system-deps: ## PostgreSQL and Chromium for the suite, installed where missing
	bash scripts/system-deps.sh

clean:
	rm -rf $(VENV) instance *.egg-info .pytest_cache .ruff_cache node_modules crm/static/vendor
