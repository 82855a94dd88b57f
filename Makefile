# Two commands on a fresh machine:  `make smoke` (set up, then the CPU demo)  and  `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# A Python 3.12 that really runs: $(PYTHON) if given, else python3.12 on PATH, else pyenv's 3.12.x.
PYTHON_CANDIDATES := $(if $(PYTHON),$(PYTHON),python3.12 $(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/3.12*/bin/python3))

.PHONY: setup assets smoke test mutation perf tasks bench-all report clean-results
# The review's experiments (experiments/*.yaml). Pass runner options through RUN_ARGS, e.g.
#   make bench-all RUN_ARGS="--launcher ray --address auto --gpus-per-run 1"
EXPERIMENTS := task_diversity parallelization diffusion_steps cross_embodiment ood_terrain
RUN_ARGS ?=
EXP ?= smoke

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@found=""; for c in $(PYTHON_CANDIDATES); do \
	  if "$$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; then found="$$c"; break; fi; \
	done; \
	if [ -z "$$found" ]; then \
	  echo "error: no working Python 3.12 found (tried: $(PYTHON_CANDIDATES)); install one or run make setup PYTHON=/path/to/python3.12" >&2; \
	  exit 2; \
	fi; \
	echo "using $$found ($$("$$found" --version))"; \
	[ -x $(PY) ] || "$$found" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m tasks.assets
	@touch $@

assets: setup
	$(PY) -m tasks.assets

smoke: setup
	$(PY) -m benchmark.run --exp smoke

bench-all: setup
	@status=0; for exp in $(EXPERIMENTS); do \
	  $(PY) -m benchmark.run --exp $$exp $(RUN_ARGS) || status=1; \
	done; exit $$status

report: setup
	$(PY) -m analysis.report --exp $(EXP)

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest

# Mutation testing of the agents' math (docs/mutation.md); long, not part of CI: see that page for the time
mutation: setup
	$(PY) -m pip install --quiet -e '.[test,mutation]'
	rm -rf mutants
	@start=$$(date +%s); commit=$$(git rev-parse --short HEAD); status=0; $(PY) -m mutmut run || status=$$?; \
	  $(PY) -m agents.mutation_page --seconds $$(( $$(date +%s) - start )) --commit $$commit && exit $$status

perf: setup
	$(PY) -m benchmark.perf_ppo

tasks: setup
	$(PY) -m tasks.list

clean-results:
	rm -rf results
