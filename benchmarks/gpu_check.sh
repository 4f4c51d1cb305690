#!/usr/bin/env bash
# The GPU check of issue 10, in one shot: on a machine with CUDA it prints the machine (nvidia-smi, torch, the GPU),
# runs the CUDA-marked tests, the speed benchmark on ML-1M on cuda and the scaling benchmark on generated data of
# ML-25M's shape, then prints every figure. It installs nothing (no pip, no network) and needs only torch, numpy,
# pandas and pytest (pytest-timeout if present): nothing it runs imports streamlit, plotly or playwright.
#
#   DMF_ML1M_DIR=/path/to/ml-1m bash benchmarks/gpu_check.sh     # GPU mode (automatic when torch sees CUDA)
#   bash benchmarks/gpu_check.sh --cpu                            # CPU mode: the same steps, small (under a minute)
#
# GPU mode writes benchmarks/results/speed-cuda.json and scaling-cuda.json; the ML-1M speed run is skipped, with a
# line saying so, when $DMF_ML1M_DIR is unset or missing. CPU mode (also taken when there is no CUDA) runs the
# CUDA-marked tests (they skip), a short speed run on the demo data and the scaling run on a small demo size,
# writing its results to a temporary folder so the committed CPU results are left alone. Where $OUT is set, the
# result files and the whole log (gpu_check.log) are copied there. Every step runs under a time limit; a failed
# step is reported and the others still run; the exit status is 1 when any step failed.
set -euo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

mode=auto
for arg in "$@"; do
    case "$arg" in
        --cpu) mode=cpu ;;
        --cuda | --gpu) mode=cuda ;;
        -h | --help) usage; exit 0 ;;
        *) echo "error: unknown argument $arg (use --cpu, --cuda or --help)" >&2; exit 2 ;;
    esac
done

# Relative paths are the caller's: resolve them before moving to the repository root.
if [[ -n "${DMF_ML1M_DIR:-}" && "$DMF_ML1M_DIR" != /* ]]; then DMF_ML1M_DIR="$PWD/$DMF_ML1M_DIR"; fi
if [[ -n "${OUT:-}" && "$OUT" != /* ]]; then OUT="$PWD/$OUT"; fi
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
export PYTHONUNBUFFERED=1  # the log keeps the order of stdout and stderr, and all of it if a step is cut short

if [[ $mode != cpu ]]; then
    has_cuda=$("$PYTHON" -c 'import torch; print(int(torch.cuda.is_available()))')
    if [[ $mode == auto ]]; then
        mode=$([[ $has_cuda == 1 ]] && echo cuda || echo cpu)
    elif [[ $has_cuda != 1 ]]; then
        echo "error: --cuda given but torch sees no CUDA device (run with --cpu, or without arguments)" >&2
        exit 1
    fi
fi

if [[ $mode == cuda ]]; then
    RESULTS=benchmarks/results
    THREADS=$(nproc)
else
    export CUDA_VISIBLE_DEVICES=""  # CPU mode even on a GPU machine: the CUDA tests skip
    RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
    trap 'rm -rf "$RESULTS"' EXIT
    THREADS=2
    export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # no spin-waiting on a shared CI machine
fi

failed=()

# step NAME SECONDS COMMAND...: run under a time limit (SIGINT first, so Python says where it was), time it, and
# record a failure without stopping the check.
step() {
    local name=$1 limit=$2 started=$SECONDS rc
    shift 2
    echo
    echo "=== $name (limit ${limit} s): $*"
    if timeout -s INT -k 20 "$limit" "$@"; then
        echo "=== $name: ok in $((SECONDS - started)) s"
    else
        rc=$?
        [[ $rc == 124 ]] && echo "=== $name: TIMED OUT after $limit s"
        echo "=== $name: FAILED (exit $rc) after $((SECONDS - started)) s"
        failed+=("$name")
    fi
}

machine() {
    if command -v nvidia-smi >/dev/null 2>&1; then
        nvidia-smi || echo "nvidia-smi failed"
    else
        echo "nvidia-smi: not found"
    fi
    "$PYTHON" - <<'PY'
import importlib.util
import os
import platform

import numpy
import pandas
import torch

print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPU cores, "
      f"{torch.get_num_threads()} torch threads")
print(f"torch {torch.__version__} (CUDA build {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}), "
      f"numpy {numpy.__version__}, pandas {pandas.__version__}")
if torch.cuda.is_available():
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        print(f"GPU cuda:{index}: {props.name}, {props.total_memory / 2**30:.1f} GiB, compute capability "
              f"{props.major}.{props.minor}, {props.multi_processor_count} SMs")
    print(f"TF32 matmul {torch.backends.cuda.matmul.allow_tf32}, cuDNN TF32 {torch.backends.cudnn.allow_tf32}")
else:
    print("GPU: none (torch.cuda.is_available() is False)")
present = {name: importlib.util.find_spec(name) is not None
           for name in ("pytest", "pytest_timeout", "surprise", "plotly", "streamlit", "playwright")}
print("modules: " + ", ".join(f"{name} {'yes' if found else 'no'}" for name, found in present.items()))
PY
}

# summary FILE...: the figures of this run's result files (speed-*.json, scaling-*.json).
summary() {
    "$PYTHON" - "$@" <<'PY'
import json
import sys
from pathlib import Path

files = [Path(name) for name in sys.argv[1:]]
speed = next((path for path in files if path.name.startswith("speed-")), None)
scaling = next((path for path in files if path.name.startswith("scaling-") and path.suffix == ".json"), None)


def show(value):
    return "—" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))


if speed is not None:
    report = json.loads(speed.read_text())
    ours = report["ours"]
    print(f"speed ({report['dataset']}, split {report.get('split')}, {report['device']}, torch {report['torch']}):")
    print(f"  DMF: epoch {show(ours['epoch_seconds'])} s; test RMSE(I) within 60 s {show(ours['rmse_within_60s'])}, "
          f"within 180 s {show(ours['rmse_within_180s'])}; time to 0.87 {show(ours['time_to_0.87'])} s, "
          f"to 0.86 {show(ours['time_to_0.86'])} s; {len(ours['curve'])} epochs")
    curve = ours["curve"]
    every = max(1, -(-len(curve) // 30))  # at most ~30 lines; the JSON file has every epoch
    for index, (seconds, val, test) in enumerate(curve):
        if index % every == 0 or index == len(curve) - 1:
            print(f"    epoch {index + 1:3d} at {seconds:7.2f} s: validation RMSE {val:.4f}, test RMSE(I) {test:.4f}")
    naive = report.get("naive_dense_per_pair")
    if naive:
        print(f"  naive dense per-pair trainer: epoch {show(naive['epoch_seconds'])} s (estimated from "
              f"{naive['steps']} steps of {naive['batch']}); test RMSE(I) at the end {show(naive['curve'][-1][2])}")
    for key, value in report.items():
        if "ratio" in key:
            print(f"  {key}: {show(value)}")
    for name, row in (report.get("svd_reference") or {}).items():
        if isinstance(row, dict):
            print(f"  SVD {name}: test RMSE {show(row['test_rmse'])}, fit {show(row['fit_seconds'])} s; DMF reaches it "
                  f"at {show(row['dmf_seconds_to_match'])} s, {show(row['dmf_over_svd_time'])}x the SVD's fit time")
        else:
            print(f"  SVD reference {name}: {row}")
else:
    print("speed: no result from this run (skipped or failed)")

if scaling is not None:
    report = json.loads(scaling.read_text())
    print("scaling:")
    for row in report["rows"]:
        if "error" in row:
            print(f"  {row['size']}: failed: {row['error']}")
            continue
        gpu = (f", peak GPU {row['peak_gpu_gib']:.2f} GiB allocated / {row['peak_gpu_reserved_gib']:.2f} reserved"
               if "peak_gpu_gib" in row else "")
        print(f"  {row['size']}: {row['n_ratings']:,} ratings ({row['train_ratings']:,} training), generated in "
              f"{row['generate_seconds']:.1f} s; epoch {row['epoch_seconds']:.2f} s (all: "
              f"{', '.join(f'{t:.2f}' for t in row['epoch_seconds_all'])}) = {row['us_per_train_rating']:.3f} µs per "
              f"training rating; fit {row['fit_seconds']:.1f} s in all; validation RMSE {row['val_rmse']:.4f}; "
              f"peak RSS {row['peak_rss_gib']:.2f} GiB{gpu}; {row['device']}, {row['threads']} threads")
    print(f"  cost per training rating, largest / smallest: {show(report['cost_growth'])}")
else:
    print("scaling: no result from this run (failed)")
PY
}

# keep FILE...: copy this run's result files to $OUT as soon as they exist, so a run cut short still returns them.
keep() {
    local file
    for file in "$@"; do
        if [[ -n "${OUT:-}" && -f $file && $file -nt $marker ]]; then cp "$file" "$OUT/" && echo "copied $file to $OUT"; fi
    done
}

main() {
    local started=$SECONDS file fresh=()
    marker=$(mktemp)  # result files newer than this one are this run's
    echo "gpu_check: $mode mode, results in $RESULTS, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    echo "=== machine"
    machine || failed+=(machine)
    step cuda-tests 240 "$PYTHON" -m pytest -m cuda tests/test_cuda.py -p no:cacheprovider -o addopts="-ra --strict-markers" -v
    if [[ $mode == cuda ]]; then
        if [[ -n "${DMF_ML1M_DIR:-}" && -e "$DMF_ML1M_DIR" ]]; then
            step speed-ml1m 180 "$PYTHON" benchmarks/bench_speed.py --data "$DMF_ML1M_DIR" --device cuda --budget 30 \
                --naive-budget 15 --new-users 0 --new-items 0 --out "$RESULTS/speed-cuda.json"
            keep "$RESULTS/speed-cuda.json"
        else
            echo
            echo "=== speed-ml1m: skipped, ML-1M not found (set DMF_ML1M_DIR to a MovieLens-1M folder; it is '${DMF_ML1M_DIR:-unset}')"
        fi
        step scaling-25m 300 "$PYTHON" benchmarks/bench_scaling.py --sizes 6040x3706x1000000,162000x59000x25000000 \
            --epochs 2 --device cuda --threads "$THREADS" --out "$RESULTS/scaling-cuda.json"
        keep "$RESULTS/scaling-cuda.json" "$RESULTS/scaling-cuda.html"
        step cli-device-errors 90 "$PYTHON" -m pytest -p no:cacheprovider -o addopts="-ra --strict-markers" -q \
            tests/test_cli.py::test_bad_input_exits_non_zero_with_one_line
    else
        step speed-demo 120 "$PYTHON" benchmarks/bench_speed.py --data demo --device cpu --budget 3 --naive-budget 1 \
            --new-users 0 --new-items 0 --out "$RESULTS/speed-cpu.json"
        keep "$RESULTS/speed-cpu.json"
        step scaling-demo 120 "$PYTHON" benchmarks/bench_scaling.py --sizes 1000x600x30000 \
            --epochs 1 --device cpu --threads "$THREADS" --out "$RESULTS/scaling-cpu.json"
        keep "$RESULTS/scaling-cpu.json" "$RESULTS/scaling-cpu.html"
    fi
    for file in "$RESULTS/speed-$mode.json" "$RESULTS/scaling-$mode.json" "$RESULTS/scaling-$mode.html"; do
        if [[ -f $file && $file -nt $marker ]]; then fresh+=("$file"); fi
    done
    rm -f "$marker"
    echo
    echo "=== figures"
    summary "${fresh[@]}" || failed+=(summary)
    echo
    if ((${#failed[@]})); then
        echo "gpu_check: FAILED steps: ${failed[*]} ($mode mode, $((SECONDS - started)) s)"
        return 1
    fi
    echo "gpu_check: all steps passed ($mode mode, $((SECONDS - started)) s)"
}

if [[ -n "${OUT:-}" ]]; then
    mkdir -p "$OUT"
    main 2>&1 | tee "$OUT/gpu_check.log"
else
    main
fi
