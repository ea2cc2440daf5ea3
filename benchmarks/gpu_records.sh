#!/usr/bin/env bash
# The chapters' full-profile records, on a GPU machine that has JAX but no TensorFlow, no
# datasets and no network (the machines the course can borrow).
#
# Here, on a machine with the datasets and pip:   make gpu-carry
#   writes the data the records need to .gpu/ (compact exports, about 37 MB) and the Keras
#   wheels to .whl/ (3 MB); carry both folders to the GPU machine with the working tree.
# There, from the repository root:                 bash benchmarks/gpu_records.sh [RECORD ...]
#   RECORD is one of: omniglot (chapter 1), view2 (chapters 6 and 8: every View 2 method, on
#   62x47 crops, so the record says "reduced": the full 125x94 table is 155 MB, more than a
#   64 MiB carry); default: both, in that order. Chapter 2's 250x250 ladder is not here: its
#   View 1 tables are 353 MB as an export (benchmarks/lfw_pairs.py --export-arrays). Each record is
#   written as soon as it is done, to $SIAMESE_LESSONS_RESULTS, else $OUT (the device tool's
#   folder that comes back), else benchmarks/results. Keras runs on JAX; every record names
#   its hardware, backend and command, and says "profile": "full" only when no size was
#   overridden. OMNIGLOT_ARGS and VIEW2_ARGS add arguments to each benchmark (smaller sizes for
#   a smoke run, which the record then calls "reduced").
set -euo pipefail
cd "$(dirname "$0")/.."

records=("$@")
[ ${#records[@]} -gt 0 ] || records=(omniglot view2)
declare -A data=([omniglot]=.gpu/omniglot.npz [view2]=.gpu/lfw_view2_62x47.npz)
for record in "${records[@]}"; do
  if [ -z "${data[$record]+x}" ]; then
    echo "gpu_records: unknown record '$record'; choose from: ${!data[*]}" >&2
    exit 2
  fi
  if [ ! -f "${data[$record]}" ]; then
    echo "gpu_records: ${data[$record]} is missing: run 'make gpu-carry' where the datasets are" >&2
    exit 2
  fi
done

python=${PYTHON:-python3}
export KERAS_BACKEND=${KERAS_BACKEND:-jax} SIAMESE_LESSONS_PROFILE=full PYTHONUNBUFFERED=1
if ! "$python" -c "import keras" 2>/dev/null; then
  ls .whl/*.whl >/dev/null 2>&1 || { echo "gpu_records: Keras is not installed and .whl/ is empty" >&2; exit 2; }
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/siamese-site .whl/*.whl
  export PYTHONPATH=/tmp/siamese-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # the package from this tree, not installed
out=${SIAMESE_LESSONS_RESULTS:-${OUT:-benchmarks/results}}
mkdir -p "$out"
"$python" -c "import keras, jax; print('keras', keras.__version__, 'on', keras.backend.backend(), jax.devices())"

for record in "${records[@]}"; do
  echo "== $record"
  start=$SECONDS
  case $record in
    omniglot)
      "$python" benchmarks/omniglot_one_shot.py --profile full --arrays "${data[$record]}" \
        --out "$out/omniglot_one_shot.json" ${OMNIGLOT_ARGS:-} ;;
    view2)
      "$python" benchmarks/lfw_view2.py --profile full --arrays "${data[$record]}" --fresh \
        --out "$out/lfw_view2.json" ${VIEW2_ARGS:-} ;;
  esac
  echo "== $record done in $((SECONDS - start)) s"
done
