# The two commands: `make run` (set up and start the embedded app) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint fmt bench reliability venv venv-dev migrate clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps re-run pip only when a requirements file changed.
$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

venv: $(VENV)/.runtime
venv-dev: $(VENV)/.dev

migrate: venv
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo --if-empty
	@echo "Annotator: http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/)"
	$(PY) -m uvicorn annotator.asgi:application --host $(HOST) --port $(PORT) --http annotator.serve:NoDelayHttpToolsProtocol --loop uvloop

test: venv-dev
	$(PY) -m pytest -n 2

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy projects tasks quality mlserve activelearn annotator accounts
	@# bandit warns on stderr about every nosec line with nothing to report: noise
	$(VENV)/bin/bandit -q -ll -r annotator projects tasks quality mlserve activelearn accounts -x "*/migrations/*" 2>/dev/null

fmt: venv-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: venv-dev
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/*.py; do $(PY) $$b; done || echo "no benchmark yet"

# Fuzzing with many more examples, the bad-input catalogue, the fault tests, then 50
# annotators on PostgreSQL for a minute with the row audit: the figures of the README's
# Reliability table (bench/reliability.py). Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL).
reliability: venv-dev
	$(PY) bench/reliability.py --fuzz-examples $${FUZZ_EXAMPLES:-20}

clean:
	rm -rf $(VENV) var
