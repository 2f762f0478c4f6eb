#!/usr/bin/env bash
# What the lead ran on the GPU machine (device tool): CUDA tests, GPU speed ratios and the
# papers' Adult reproductions, in parallel processes. Usage: bash benchmarks/gpu_session.sh OUT PART
# PART = tests | repro. Wheels for skorch/fairlearn/scikit-learn travel in .whl/.
set -u
OUT=${1:-/tmp/gpu_out}; PART=${2:-tests}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD
export SKFAIRNN_DATA_HOME=$PWD/shared/data PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv
if [ "$PART" = tests ]; then
  python3 -m pytest -q -p no:cacheprovider -m cuda tests 2>&1 | tail -15 | tee "$OUT/cuda_tests.txt"
  python3 benchmarks/bench_erm.py --device cuda --epochs 6 2>&1 | tee "$OUT/bench_erm_cuda.txt"
  python3 benchmarks/bench_runner.py --device cuda --epochs 3 --repeats 2 --threads 4 2>&1 | tail -12 | tee "$OUT/bench_runner_cuda.txt"
  python3 benchmarks/bench_gradient_methods.py --model resnet18 --device cuda --epochs 1 --repeats 2 2>&1 | tail -12 | tee "$OUT/bench_gradient_resnet18_cuda.txt"
else
  pids=()
  for experiment in gcm-adult-eo fairer-adult-dp runner-adult-dp runner-adult-eo baselines-adult-eo runner-compas-dp; do
    OMP_NUM_THREADS=2 python3 -m skfairnn.cli reproduce "$experiment" --seeds 5 --device cuda \
      --out "$OUT" --quiet > "$OUT/$experiment.txt" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  tail -n 12 "$OUT"/*.txt
fi
