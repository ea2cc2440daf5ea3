# Siamese Lessons: `make book` builds the executed book, `make test` runs every test.
# Both create .venv with the pinned requirements on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED_DATA ?= ../shared/data
DATA_DIR ?= .data
BOOK_FLAGS ?=
# Training budget (minutes per method) of `make bench`'s LFW comparison; 4 keeps the
# whole CPU suite under 20 minutes on 2 cores, the committed record used 10.
BENCH_BUDGET ?= 4

# Where a pre-staged copy of the datasets exists (the course's own machines, CI),
# use a scratch copy of it offline; the loaders write caches next to the data,
# so the staged folder itself is never touched. Variables already set win.
ifneq ($(wildcard $(SHARED_DATA)/scikit_learn_data),)
export SCIKIT_LEARN_DATA ?= $(abspath $(DATA_DIR))/scikit_learn_data
export KERAS_HOME ?= $(abspath $(DATA_DIR))/keras
export SIAMESE_LESSONS_OFFLINE ?= 1
STAGE := $(DATA_DIR)/.staged
endif

.PHONY: book test lint bench clean

$(BIN)/.installed: pyproject.toml requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(DATA_DIR)/.staged:
	mkdir -p $(DATA_DIR)
	cp -r $(SHARED_DATA)/scikit_learn_data $(SHARED_DATA)/keras $(DATA_DIR)/
	touch $@

book: $(BIN)/.installed $(STAGE)
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)
	@echo "The book is at $(abspath _build/html/index.html)"

test: $(BIN)/.installed $(STAGE)
	$(BIN)/ruff check .
	$(BIN)/pytest tests book --nbmake --nbmake-timeout=600 -p no:cacheprovider

lint: $(BIN)/.installed
	$(BIN)/ruff check .

# The CPU benchmarks (the GPU ones, lfw_view2.py at full profile, are run by hand);
# each prints a table and writes results/*.json, then the README table is printed.
bench: $(BIN)/.installed $(STAGE)
	$(BIN)/python benchmarks/data_memory.py
	$(BIN)/python benchmarks/lfw_verification.py --budget-minutes $(BENCH_BUDGET)
	$(BIN)/python benchmarks/summarize.py

clean:
	rm -rf _build $(DATA_DIR)
