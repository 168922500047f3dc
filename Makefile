# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
RUN_DIR ?= runs/default
# make run ends within RUN_MINUTES of being typed, install included: notebook 03 trains for what the install, 01 and 02
# leave (0: always its own 15 min). START is read once, when make starts.
RUN_MINUTES ?= 19.5
START := $(shell date +%s)

.PHONY: install run long-run test test-fast lab bench clean-runs

# Create the venv once and install only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $(STAMP)

install: $(STAMP)

# Execute notebooks 01 -> 04 with papermill into $(RUN_DIR) (the executed copies are kept there), within RUN_MINUTES.
run: $(STAMP)
	$(PY) scripts/run_notebooks.py --run-dir $(RUN_DIR) --minutes $(RUN_MINUTES) --since $(START)

# A long run that survives interruption: type the same command again and it resumes (01 and 02 are skipped once
# done; 03 continues from its last saved state, at most SAVE_EVERY steps back). It trains for LONG_MINUTES of
# training time in all, keeps the checkpoint that reads VAL_DIR best when given (else the best val_loss), and plots
# that accuracy against minutes. Keep LONG_DIR outside the checkout. INIT=pretrained continues from the shipped model
# (notebook 03's init_from) at its fine-tuning rate, instead of starting from scratch.
LONG_DIR ?= $(HOME)/runs/long
LONG_MINUTES ?= 240
LONG_TRAIN ?= 300000
SAVE_EVERY ?= 200
VAL_DIR ?=
INIT ?=
long-run: $(STAMP)
	$(PY) scripts/run_notebooks.py --run-dir $(LONG_DIR) --resume --only 01 02 03 -p 01:n_train=$(LONG_TRAIN) \
		-p 03:time_budget_minutes=$(LONG_MINUTES) -p 03:epochs=100000 -p 03:steps_per_epoch=800 \
		-p 03:early_stopping_patience=100000 -p 03:save_every_steps=$(SAVE_EVERY) $(if $(VAL_DIR),-p 03:val_dir=$(VAL_DIR)) \
		$(if $(INIT),-p 03:init_from=$(INIT))

# The whole test suite: unit tests, papermill chain with tiny parameters, nbval over the committed notebooks.
test: $(STAMP)
	$(PY) -m pytest tests

test-fast: $(STAMP)
	$(PY) -m pytest tests -m "not slow and not training"

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean-runs:
	rm -rf runs
