# Benchmarks (docs/benchmarks.md). Included by the Makefile (include mk/*.mk); standalone:
#   make -f Makefile -f mk/bench.mk bench-quick
# A script, never a timed test. Run on an otherwise quiet machine: it runs one process at a time.

BENCH_PYTHON ?= python3
BENCH_VENV   := .venv-bench
BENCH_STAMP  := $(BENCH_VENV)/.installed
BENCH_ENV    := PATH="$(CURDIR)/node_modules/.bin:$$PATH"
BENCH_RUN    := $(BENCH_ENV) .venv/bin/python benchmarks/run.py

.PHONY: bench bench-quick bench-env corpus-compare

# checkov and cfn-lint in their own venv, reinstalled only when requirements-bench.txt changes.
$(BENCH_STAMP): requirements-bench.txt
	test -x $(BENCH_VENV)/bin/python || $(BENCH_PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet -r requirements-bench.txt
	touch $@

bench-env: $(BENCH_STAMP)

## Full benchmark: N = 100, 500, 2000, 5 runs each, 5 rounds of the small inputs, the CLI's import profile;
## rewrites docs/benchmarks.md (~10 min on 2 cores).
bench: $(BENCH_STAMP)
	$(BENCH_RUN) --sizes 100,500,2000 --runs 5 --write-doc docs/benchmarks.md

## Quick look (~1 min): N = 100, 3 synth/CLI runs, checkov and cfn-lint once (one round of the small inputs),
## the CLI's import profile; prints the tables only.
bench-quick: $(BENCH_STAMP)
	$(BENCH_RUN) --sizes 100 --runs 3 --tool-runs 1

## The guard's findings on ../shared/corpora next to checkov's CKV_AWS_24/25/100 (~1 min); rewrites the table of docs/corpus.md.
corpus-compare: $(BENCH_STAMP)
	.venv/bin/python benchmarks/corpus_compare.py
