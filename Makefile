# `make demo` and `make test` create .venv with plain pip the first time; later runs install nothing.
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test test-quick data release validate bench locale

$(INSTALLED): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/assignkit demo --out demo-out

test: $(INSTALLED)
	$(BIN)/python -m pytest

test-quick: $(INSTALLED)
	$(BIN)/python -m pytest -m "not slow"

data: $(INSTALLED)
	$(BIN)/assignkit data

release: $(INSTALLED)
	$(BIN)/assignkit release

validate: $(INSTALLED)
	$(BIN)/assignkit validate

# A class of K = 32 per homework, every configuration (about 1.5 hours; run it on a quiet machine).
# A short smoke: make bench BENCH_ARGS="--k 2 --homeworks tiny --configs plain,compute,kernel-2"
bench: $(INSTALLED)
	$(BIN)/python benchmarks/grade_vs_nbgrader.py $(BENCH_ARGS)

# Message ids of the kit's own strings, from the code, into the Korean catalog (then translate new/fuzzy entries).
locale: $(INSTALLED)
	mkdir -p build
	$(BIN)/pybabel extract --no-location --sort-output --project assignkit -o build/assignkit.pot src/assignkit
	$(BIN)/pybabel update --no-wrap --ignore-obsolete --no-fuzzy-matching -i build/assignkit.pot -d src/assignkit/locale -D assignkit -l ko
