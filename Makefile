# Two commands do all the set-up: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PORT ?= 8000
# axe-core for the end-to-end tests' accessibility checks, from npm when npm is there.
NODE_STAMP := node_modules/.installed-$(shell cksum package-lock.json | cut -d' ' -f1)

SCALE ?= small
BENCH_STAMP := $(VENV)/.bench-installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
BENCH_POSTGRES ?= postgres://postgres@127.0.0.1:5432

.PHONY: demo test install node-deps tick clean bench fuzz

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

node-deps: $(NODE_STAMP)

$(NODE_STAMP): package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --no-audit --no-fund --silent && touch $@; \
	else \
		echo "npm not found: the browser tests will skip their accessibility checks' setup."; \
	fi

demo: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo "Serving the portal on http://127.0.0.1:$(PORT)/ (sign in with an account above)"
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# pytest runs in PYTEST_WORKERS processes (pytest-xdist), each with its own test database and
# files; a worker takes whole test files (tests/conftest.py), so a module's world is built once.
# PYTEST_ARGS adds options: .ci/run's SQLite run leaves out what only needs to run once.
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=30 $(PYTEST_ARGS)

# The schema fuzzer (tests/fuzz) at length: FUZZ_EXAMPLES requests per operation and user
# (`make test` sends 50, the same ones every run) from fresh random seeds. FUZZ_OPERATIONS=x
# fuzzes only the operations whose label contains x.
FUZZ_EXAMPLES ?= 500
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_RANDOM=1 $(BIN)/pytest tests/fuzz -q

# The performance harness (README, Performance): seeds or reuses portal_bench_$(SCALE) in the
# local PostgreSQL (created when missing), then measures latency, query counts, each list page
# against the Django floor, the comparison with naive guardian and the SQL floor, and
# throughput with wrk (apt-get install wrk); it needs Redis (BENCH_REDIS, default
# redis://127.0.0.1:6379/3, a database it empties). BENCH_ARGS="--reseed" seeds anew.
$(BENCH_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,bench]"
	@rm -f $(VENV)/.bench-installed-*
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	BENCH_POSTGRES=$(BENCH_POSTGRES) $(BIN)/python -m bench --scale $(SCALE) $(BENCH_ARGS)

tick: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py tick

clean:
	rm -rf $(VENV) var staticfiles
