# All set-up lives here: `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
CONSTRAINTS := requirements/constraints.txt

.PHONY: demo test test-fast bench bench-accuracy bench-scale bench-torchrun install clean

demo: $(STAMP)
	$(VENV)/bin/seqclf demo

test: $(STAMP)
	$(PY) -m pytest

# Unit tests only: seconds, not minutes.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not integration and not e2e"

# Speed and memory against the textbook loop and fastText, and of each backend (about 25 minutes).
bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[test,bench]'
	$(PY) benchmarks/speed.py

# Test accuracy of the presets against fastText and TF-IDF + linear models (about 15 minutes).
bench-accuracy: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[test,bench]'
	$(PY) benchmarks/accuracy.py

# Data larger than memory: training and prediction memory and time on generated corpora of 2M-30M sentences,
# vocabulary building, Ray Data beside seqclf predict (an hour; about 8 GB of disk while it runs).
bench-scale: $(STAMP)
	$(PY) benchmarks/scale.py

# Training tokens/s with 1 and 2 processes under torchrun, and the scaling efficiency (a few minutes).
bench-torchrun: $(STAMP)
	$(PY) benchmarks/torchrun_scaling.py

install: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache src/*.egg-info
