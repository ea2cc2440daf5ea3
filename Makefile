# Siamese Lessons: `make book` builds the executed book, `make test` runs every test.
# Both create .venv with the pinned requirements on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED_DATA ?= ../shared/data
DATA_DIR ?= .data
BOOK_FLAGS ?=
# pytest-xdist workers of `make test` (2: the CI machine's cores).
TEST_WORKERS ?= 2
# CPU threads of each worker's TensorFlow (and NumPy/BLAS): the cores shared out among the
# workers. Left to itself every TensorFlow process sizes its op pool to the whole machine,
# so two workers training at once run four busy threads on two cores: on a 2-core Xeon a
# chapter-1 training step took 344 ms with two such processes side by side, 157-173 ms with
# one thread each (90 ms alone). The whole of .ci/run gains less (1,756 s before; 1,524 and
# 1,673 s in two runs after): much of it is not TensorFlow's op pool.
TEST_THREADS ?= $(shell $(PYTHON) -c "import os; print(max(1, (os.cpu_count() or 1) // $(TEST_WORKERS)))")
# Training budget (minutes per method) of `make bench`'s LFW comparison; 4 keeps the
# whole CPU suite under 20 minutes on 2 cores, the committed record used 10.
BENCH_BUDGET ?= 4

# Where `make test` writes the chapters it executed (a copy: the committed
# notebooks stay without outputs); `make book-executed` renders that copy. Not under
# _build: nbmake skips every notebook whose path contains "_build".
EXECUTED ?= .book-executed

# Where a pre-staged copy of the datasets exists (the course's own machines, CI),
# use a scratch copy of it offline; the loaders write caches next to the data,
# so the staged folder itself is never touched. When SCIKIT_LEARN_DATA is already
# set (CI sets it to its own scratch copy) nothing is staged or copied.
ifeq ($(origin SCIKIT_LEARN_DATA),undefined)
ifneq ($(wildcard $(SHARED_DATA)/scikit_learn_data),)
export SCIKIT_LEARN_DATA := $(abspath $(DATA_DIR))/scikit_learn_data
export KERAS_HOME ?= $(abspath $(DATA_DIR))/keras
export SIAMESE_LESSONS_OFFLINE ?= 1
STAGE := $(DATA_DIR)/.staged
endif
endif

.PHONY: book book-executed test lint bench gpu-carry gpu-records clean

# Python caches each module it imports as a .pyc file, unless PYTHONDONTWRITEBYTECODE is set (it
# is on the course's CI machine). Without those files every process compiles what it imports
# anew: TensorFlow's import took 18-20 s instead of 7-9, in each of the 20-odd processes a test
# run starts. So make's commands run without it, and the first import of a module writes its
# .pyc. (Compiling the whole environment at install time, uv's --compile-bytecode, did the
# same at a cost of 54 s of CPU, 39 s of a fresh clone's CI run on 2 cores; compiling what the
# tests import, as they import it, costs about 11 s once.)
unexport PYTHONDONTWRITEBYTECODE

# The requirements are installed by uv (a PyPI package, installed into the venv by pip): it
# resolves the same versions as pip. On the 2-core CI machine a cold install (empty uv cache)
# took 49 s, against 120-160 s with pip.
$(BIN)/.installed: pyproject.toml requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python -r requirements.txt
	touch $@

$(DATA_DIR)/.staged:
	mkdir -p $(DATA_DIR)
	cp -r $(SHARED_DATA)/scikit_learn_data $(SHARED_DATA)/keras $(DATA_DIR)/
	touch $@

book: $(BIN)/.installed $(STAGE)
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)
	@echo "The book is at $(abspath _build/html/index.html)"

# Every chapter once through nbmake, executed in a copy under $(EXECUTED) so that
# `make book-executed` can render it without running it again, and the unit tests, on
# two pytest-xdist workers (the chapters first: they are the longest items). Items go to
# the workers one at a time (--maxschedchunk=1): xdist's default hands each worker a
# run of consecutive items first, which put every chapter on one worker.
test: $(BIN)/.installed $(STAGE)
	$(BIN)/ruff check .
	rm -rf $(EXECUTED) && mkdir -p $(EXECUTED)
	cp -r book _config.yml _toc.yml $(EXECUTED)/
	sed -i 's/^\(  execute_notebooks:\) force .*/\1 "off"           # executed by make test/' $(EXECUTED)/_config.yml
	grep -q 'execute_notebooks: "off"' $(EXECUTED)/_config.yml
	TF_NUM_INTRAOP_THREADS=$(TEST_THREADS) OMP_NUM_THREADS=$(TEST_THREADS) \
		$(BIN)/pytest $(EXECUTED)/book tests --nbmake --nbmake-timeout=600 --overwrite -p no:cacheprovider \
		-n $(TEST_WORKERS) --maxschedchunk=1 --durations=15

# The book from the chapters `make test` executed (no second execution); CI uses it.
book-executed: $(BIN)/.installed
	test -f $(EXECUTED)/_config.yml || { echo "run make test first: it executes the chapters into $(EXECUTED)" >&2; exit 1; }
	$(BIN)/python -c "import glob, json, sys; bad = [p for p in sorted(glob.glob('$(EXECUTED)/book/*.ipynb')) if not any(c.get('outputs') for c in json.load(open(p))['cells'])]; sys.exit('not executed by make test: ' + ', '.join(bad) if bad else 0)"
	$(BIN)/jupyter-book build $(EXECUTED) --path-output . $(BOOK_FLAGS)
	@echo "The book is at $(abspath _build/html/index.html)"

lint: $(BIN)/.installed
	$(BIN)/ruff check .

# The CPU benchmarks (the GPU ones, lfw_view2.py at full profile, are run by hand);
# each prints a table and writes results/*.json, then the README table is printed.
bench: $(BIN)/.installed $(STAGE)
	$(BIN)/python benchmarks/data_memory.py
	$(BIN)/python benchmarks/lfw_verification.py --budget-minutes $(BENCH_BUDGET)
	$(BIN)/python benchmarks/summarize.py

# What the full-profile GPU records need on a machine without datasets, network or
# TensorFlow: the data as compact exports in .gpu/ and the Keras wheels (Python 3.12) in
# .whl/. Both are ignored by git; carry them with the working tree.
GPU_WHEELS ?= keras==3.15.1 namex==0.1.0 optree==0.20.0
gpu-carry: $(BIN)/.installed $(STAGE)
	mkdir -p .gpu .whl
	$(BIN)/python benchmarks/omniglot_one_shot.py --export-arrays .gpu/omniglot.npz
	$(BIN)/python benchmarks/lfw_view2.py --profile full --resize 0.5 --export-arrays .gpu/lfw_view2_62x47.npz
	$(BIN)/python -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
		--implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
		--platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl $(GPU_WHEELS)
	du -sh .gpu .whl

# On the GPU machine (Keras on JAX): every chapter's full-profile record (see the script).
gpu-records:
	bash benchmarks/gpu_records.sh $(RECORDS)

clean:
	rm -rf _build $(DATA_DIR)
