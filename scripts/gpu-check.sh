#!/usr/bin/env bash
# One-command GPU check on a bare NVIDIA machine (no network, no Node), from the folder that
# scripts/gpu-check-prepare.sh built here:
#   bash scripts/gpu-check.sh [bundle dir, default gpu-check/]
# Writes $OUT/gpu-check.json (OUT defaults to gpu-check-out/), plus gpu-check.log and the raw parts.
# Every step has its own timeout, so a hang loses one figure and the JSON still lands; the whole
# run stays under 7 minutes (the default budgets below sum to 375 s, plus unpacking and merging).
#
# Steps: unpack node + app + the Vulkan loader; nvidia-smi; WebGPU adapter, features and limits;
# matmul GFLOP/s (1024³, 4096×768×3072); one training step for SciRus-tiny (h312 L3 H12 ff600,
# batch 64, seq 256) and BERT-base (h768 L12 H12 ff3072, batch 32, seq 128) on webgpu; the same
# shapes in ../shared/bench/torch_reference.py --device cuda when python3 has torch; the ratios;
# GPU time per kernel of one BERT-base step (what to fuse next).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUNDLE=$(cd "${1:-$ROOT/gpu-check}" 2>/dev/null && pwd) || { echo "gpu-check: no bundle folder ${1:-$ROOT/gpu-check}: run scripts/gpu-check-prepare.sh first" >&2; exit 2; }
OUT=${OUT:-$ROOT/gpu-check-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LOG=$OUT/gpu-check.log
: > "$LOG"
log() { echo "[gpu-check $(date -u +%T)] $*" | tee -a "$LOG" >&2; }
# budgets in seconds (override with env for slow software adapters or a quick run)
T_PROBE=${T_PROBE:-30} T_MATMUL=${T_MATMUL:-45} T_TRAIN_SMALL=${T_TRAIN_SMALL:-75} T_TRAIN_BASE=${T_TRAIN_BASE:-100} T_PROFILE=${T_PROFILE:-45} T_TORCH=${T_TORCH:-40}
TORCH_SCRIPT=${TORCH_SCRIPT:-$ROOT/../shared/bench/torch_reference.py}
PY=${PYTHON:-python3}
START=$(date +%s)

unxz_to() { # file.xz -> stdout
  if command -v xz >/dev/null; then xz -dc "$1"
  else "$PY" -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi
}

log "bundle $BUNDLE; work $WORK; out $OUT"
unxz_to "$BUNDLE/node.xz" > "$WORK/node" && chmod +x "$WORK/node" || log "node: unpack failed"
unxz_to "$BUNDLE/app.tar.xz" | tar -C "$WORK" -xf - || log "app: unpack failed"
NODE=$WORK/node
APP=$WORK/app
"$NODE" --version >> "$LOG" 2>&1 || { log "the bundled node does not run here (glibc too old?)"; echo '{"error":"bundled node does not run"}' > "$OUT/gpu-check.json"; exit 1; }

# Vulkan loader: the system's if it has one, else the carried Debian .deb (unpacked privately, not into /)
if ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  log "system Vulkan loader: $(ldconfig -p | grep 'libvulkan.so.1 ' | head -1)"
else
  deb=$(ls "$BUNDLE"/libvulkan1_*.deb 2>/dev/null | head -1)
  mkdir -p "$WORK/vk"
  if [ -n "$deb" ] && { dpkg-deb -x "$deb" "$WORK/vk" 2>>"$LOG" || (cd "$WORK/vk" && ar x "$deb" && tar -xf data.tar.* 2>>"$LOG"); }; then
    export LD_LIBRARY_PATH="$WORK/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    log "carried Vulkan loader: $(ls "$WORK"/vk/usr/lib/x86_64-linux-gnu/libvulkan.so.1 2>&1)"
  else
    log "no Vulkan loader and the carried .deb could not be unpacked"
  fi
fi
for icd in "${VK_ICD_FILENAMES:-}" /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -n "$icd" ] && [ -f "$icd" ]; then export VK_ICD_FILENAMES=$icd VK_DRIVER_FILES=$icd; log "NVIDIA ICD: $icd"; break; fi
done

if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$OUT/nvidia-smi.txt" 2>&1; else echo "nvidia-smi: not found" > "$OUT/nvidia-smi.txt"; fi
log "GPU: $(head -1 "$OUT/nvidia-smi.txt")"

part() { # name timeout cmd... -> $OUT/part-<name>.json (last JSON line of stdout), stderr to the log
  local name=$1 t=$2; shift 2
  log "$name (timeout ${t}s)"
  local t0=$(date +%s)
  timeout -k 5 "$t" "$@" > "$OUT/part-$name.json" 2> >(grep -v 'artificially reduced' >> "$LOG")
  local rc=$?
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "{\"error\":\"timed out after ${t}s\"}" >> "$OUT/part-$name.json"
  log "$name: rc $rc in $(( $(date +%s) - t0 ))s: $(tail -c 400 "$OUT/part-$name.json")"
}

cd "$APP"
"$NODE" -e 'const fs=require("fs");console.log(JSON.stringify({nvidia_smi:fs.readFileSync(process.argv[1],"utf8").trim(),node:process.version,vk_icd:process.env.VK_ICD_FILENAMES??null,ld_library_path:process.env.LD_LIBRARY_PATH??null}))' "$OUT/nvidia-smi.txt" > "$OUT/part-env.json"
part probe "$T_PROBE" "$NODE" dist/scripts/gpu-check.js probe
part matmul "$T_MATMUL" "$NODE" dist/scripts/gpu-check.js matmul
part train-scirus-tiny "$T_TRAIN_SMALL" "$NODE" dist/scripts/gpu-check.js train scirus-tiny
part train-bert-base "$T_TRAIN_BASE" "$NODE" dist/scripts/gpu-check.js train bert-base
part profile-bert-base "$T_PROFILE" "$NODE" dist/scripts/gpu-check.js profile bert-base

# TORCH_DEVICE=cpu only to test this plumbing on a machine without CUDA (the ratios then mean nothing)
TORCH_DEVICE=${TORCH_DEVICE:-cuda}
if [ -f "$TORCH_SCRIPT" ] && "$PY" -c 'import torch,sys; sys.exit(0 if sys.argv[1] == "cpu" or torch.cuda.is_available() else 1)' "$TORCH_DEVICE" 2>>"$LOG"; then
  for shape in scirus-tiny bert-base; do
    # shellcheck disable=SC2046 # the flags are words
    part "torch-$shape" "$T_TORCH" "$PY" "$TORCH_SCRIPT" --device "$TORCH_DEVICE" $("$NODE" dist/scripts/gpu-check.js torch-flags "$shape") --steps 10 --warmup 3
  done
else
  log "PyTorch on $TORCH_DEVICE unavailable ($PY with torch, or $TORCH_SCRIPT missing): no ratios"
  echo '{"error":"python3 with torch and CUDA, or torch_reference.py, not found"}' | tee "$OUT/part-torch-scirus-tiny.json" > "$OUT/part-torch-bert-base.json"
fi

if ! timeout 30 "$NODE" dist/scripts/gpu-check.js merge "$OUT" > "$OUT/gpu-check.json" 2>>"$LOG"; then
  log "merge failed; the parts are in $OUT/part-*.json"
fi
log "done in $(( $(date +%s) - START ))s: $OUT/gpu-check.json"
cat "$OUT/gpu-check.json"
