#!/usr/bin/env bash
# What the lead ran on the GPU machine (device tool): CUDA tests, GPU speed ratios and the
# papers' Adult reproductions, in parallel processes. Usage: bash benchmarks/gpu_session.sh OUT PART
# PART = tests | repro | sweep (the lines of benchmarks/gpu_sweep.txt). Wheels for skorch/fairlearn/scikit-learn travel in .whl/.
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
elif [ "$PART" = sweep ]; then
  work=/tmp/sweep; mkdir -p "$work"; pids=(); i=0
  while read -r dataset constraint selection method rest; do
    case "$dataset" in ""|\#*) continue;; esac
    i=$((i + 1)); sets=(); first=${FIRST_SEED:-0}
    for kv in $rest; do
      case "$kv" in first_seed=*) first=${kv#first_seed=};; *) sets+=(--set "$kv");; esac
    done
    tag="$i-${dataset}_${constraint}_${selection}_${method}_${rest// /_}"
    OMP_NUM_THREADS=1 timeout "${REPRO_LIMIT:-560}" python3 -m skfairnn.cli compare \
      --dataset "$dataset" --constraint "$constraint" --selection "$selection" \
      --methods "$method" "${sets[@]}" --seeds 5 --first-seed "$first" \
      --device cuda --out "$work/$tag" \
      > "$work/$tag.log" 2>&1 &
    pids+=($!)
  done < "${SWEEP:-benchmarks/gpu_sweep.txt}"
  wait "${pids[@]}"
  tar czf "$OUT/sweep.tgz" -C "$work" .
else
  # one process per (dataset, constraint, selection, method): 5 seeds each, all on the GPU
  work=/tmp/repro; mkdir -p "$work"; pids=()
  run() {  # dataset constraint selection method
    local tag="$1_$2_$3_$4"
    OMP_NUM_THREADS=1 timeout "${REPRO_LIMIT:-560}" python3 -m skfairnn.cli compare \
      --dataset "$1" --constraint "$2" --selection "$3" --methods "$4" --seeds 5 \
      --device cuda --out "$work/$tag" > "$work/$tag.log" 2>&1 &
    pids+=($!)
  }
  for m in erm oversample fairreg gcm_t0 gcm_t2 adversarial runner; do
    run adult equalized_odds hard $m; done
  for m in erm fairreg fairer adversarial runner; do run adult demographic_parity hard $m; done
  for m in fairreg fairer; do run adult demographic_parity prob $m; done
  for m in erm reweighting runner; do run compas demographic_parity hard $m; done
  wait "${pids[@]}"
  cat "$work"/*/*_runs.jsonl > "$OUT/all_runs.jsonl"
  tar czf "$OUT/repro.tgz" -C "$work" .
  grep -h "seed" "$work"/*.log | tail -n 5
fi
