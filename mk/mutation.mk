# `make mutation`: mutation testing of the policy core (constructs_lib/policy) with mutmut, pinned in
# requirements-mutation.txt and installed into the project venv. Not part of `make test` (docs/mutation.md).
#
# The project is copied to $(MUTATION_DIR) (mutmut writes its mutants/ next to the code it runs) and mutmut
# runs there at low priority with the fast core tests only: the core and CLI legs of the case matrix, the
# template, property, fail-closed, exposure and docs tests, tests/test_core_*.py, the remediation planner's, the
# corpus test and the CLI format and adoption tests; never the CDK/jsii,
# emulator or scan tests. tests/mutation_plugin.py gives every pytest session its own temporary directory
# (no false kills), runs Hypothesis tests on a fixed sample of MUTATION_EXAMPLES examples and empties the
# core's memo caches in every forked session (no false survivors). Then it prints the score
# (killed / non-equivalent mutants; a timeout counts as killed), the survivors, and fails below MUTATION_MIN %.
# Mutants judged equivalent are named in docs/mutation.md. About 40 minutes on 2 shared cores.

MUTATION_DIR      ?= build/mutation
MUTATION_JOBS     ?= 2
MUTATION_EXAMPLES ?= 25
MUTATION_MIN      ?= 90
MUTATION_STAMP    := $(VENV)/.mutation-installed
MUTATION_DOCS     := README.md RULES.md  # tests/test_docs.py reads them

MUTATION_TESTS := \
  tests/test_guard_matrix.py::test_policy_core tests/test_guard_matrix.py::test_cli tests/test_policy_templates.py \
  tests/test_guard_properties.py tests/test_fail_closed.py tests/test_exposure.py tests/test_docs.py $(sort $(wildcard tests/test_core_*.py)) \
  tests/test_remediation.py tests/test_corpus.py tests/test_cli_formats.py tests/test_cli_adoption.py
# Both build a CDK app (jsii): not fast, and not the core.
MUTATION_DESELECT := \
  tests/test_fail_closed.py::test_registering_the_plugin_as_an_aspect_says_how_to_register_it \
  tests/test_fail_closed.py::test_crashes_and_malformed_templates_cannot_be_acknowledged

SEARCH_EXAMPLES   ?= 1000

.PHONY: mutation mutation-search

$(MUTATION_STAMP): requirements-mutation.txt $(PY_STAMP)
	$(VENV)/bin/python -m pip install --quiet -r requirements-mutation.txt
	touch $@

mutation: $(MUTATION_STAMP)
	rm -rf $(MUTATION_DIR) && mkdir -p $(MUTATION_DIR)
	tar -cf - --exclude=__pycache__ constructs_lib tests pyproject.toml $(MUTATION_DOCS) | tar -xf - -C $(MUTATION_DIR)
	{ echo "[mutmut]"; echo "source_paths = constructs_lib"; echo "only_mutate = constructs_lib/policy/*"; \
	  echo "also_copy ="; printf '    %s\n' $(MUTATION_DOCS); \
	  echo "pytest_add_cli_args ="; printf '    %s\n' -p mutation_plugin -p no:cacheprovider; \
	  echo "pytest_add_cli_args_test_selection ="; printf '    %s\n' $(MUTATION_TESTS) $(addprefix --deselect=,$(MUTATION_DESELECT)); \
	} > $(MUTATION_DIR)/setup.cfg
	cd $(MUTATION_DIR) && PYTHONPATH=$(CURDIR)/$(MUTATION_DIR)/tests MUTATION_EXAMPLES=$(MUTATION_EXAMPLES) \
	  nice -n 10 $(CURDIR)/$(VENV)/bin/mutmut run --max-children $(MUTATION_JOBS) > mutmut-run.log 2>&1 \
	  || { tail -c 3000 mutmut-run.log; exit 1; }
	cd $(MUTATION_DIR) && $(CURDIR)/$(VENV)/bin/mutmut results --all true > results.txt
	$(VENV)/bin/python -c "$$MUTATION_SCORE" $(MUTATION_DIR)/results.txt docs/mutation.md $(MUTATION_MIN)

# `make mutation-search` (after `make mutation`): for every survivor, listed as equivalent or not, an input that tells it
# from the core, if the corpus, the case matrix, SEARCH_EXAMPLES random templates or the property tests hold one
# (tests/mutant_search.py; about 20 s a mutant).
mutation-search: $(MUTATION_STAMP)
	test -f $(MUTATION_DIR)/results.txt || { echo "run make mutation first: $(MUTATION_DIR)/results.txt is missing"; exit 1; }
	cd $(MUTATION_DIR)/mutants && nice -n 10 $(CURDIR)/$(VENV)/bin/python $(CURDIR)/tests/mutant_search.py --examples $(SEARCH_EXAMPLES)

# The score: killed (or timed out) / mutants not listed in the equivalents section of docs/mutation.md; the survivors by name.
define MUTATION_SCORE
import collections, re, sys
results, doc, minimum = sys.argv[1], sys.argv[2], float(sys.argv[3])
status = dict(line.strip().rpartition(": ")[::2] for line in open(results) if ": " in line)
section = open(doc).read().split("## Equivalent mutants", 1)[-1].split("\n## ", 1)[0]
listed = set(re.findall(r"`(constructs_lib[.]policy[^`]*__mutmut_[0-9]+)`", section))
alive = {name for name, state in status.items() if state in ("survived", "no tests")}
equivalent, stale = listed & alive, sorted(listed - alive)
counts = collections.Counter(status.values())
killed = counts["killed"] + counts["timeout"]
score = 100 * killed / (len(status) - len(equivalent))
survivors = sorted(alive - equivalent)
print("mutants %d | killed %d (timeouts %d) | survived %d | no tests %d | equivalent %d | score %.1f %%" % (
    len(status), killed, counts["timeout"], counts["survived"], counts["no tests"], len(equivalent), score))
print("other states: %s" % dict((state, n) for state, n in counts.items() if state not in ("killed", "timeout", "survived", "no tests")))
print("survivors (%d; cd build/mutation && ../../.venv/bin/mutmut show NAME):" % len(survivors))
print("\n".join("  %s: %s" % (name, status[name]) for name in survivors))
if stale:
    print("listed as equivalent in docs/mutation.md but not alive (killed, or renumbered after a change to the core):")
    print("\n".join("  " + name for name in stale))
sys.exit(score < minimum)
endef
export MUTATION_SCORE
