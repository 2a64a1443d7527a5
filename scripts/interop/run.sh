#!/usr/bin/env bash
# `npm run interop`: train tiny models with the toolkit and hold them to the real Python libraries.
# Not part of `npm test` (it needs PyPI once, ~6 GB of wheels, and a few minutes). See README "Interop".
#
#   INTEROP_VENV       venv for sentence-transformers 6 / transformers 5   (default: ../venv-st, outside the repo)
#   INTEROP_VENV_ONNX  venv for the ONNX backend check (optimum-onnx needs transformers 4; default ../venv-st-onnx)
#   INTEROP_WORK       where models and reports go                        (default: checkpoints/interop)
#   INTEROP_DATA       real texts for the tokenization check              (default: ../shared/data, optional)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=${INTEROP_VENV:-$ROOT/../venv-st}
VENV_ONNX=${INTEROP_VENV_ONNX:-$ROOT/../venv-st-onnx}
WORK=${INTEROP_WORK:-$ROOT/checkpoints/interop}
DATA=${INTEROP_DATA:-$ROOT/../shared/data}
HERE=$ROOT/scripts/interop

# A venv with exactly the pinned packages (--no-deps: the lists are complete, pip adds nothing).
ensure_venv() { # dir requirements
  local dir=$1 req=$2 stamp
  stamp="$dir/.interop-$(sha256sum "$req" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "== venv $dir from $(basename "$req")" >&2
    [ -x "$dir/bin/python" ] || python3.11 -m venv "$dir" 2>/dev/null || python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check --no-deps -r "$req"
    touch "$stamp"
  fi
}
ensure_venv "$VENV" "$HERE/requirements.txt"
ensure_venv "$VENV_ONNX" "$HERE/requirements-onnx.txt"

mkdir -p "$WORK"
npm run build --silent
"$VENV/bin/python" "$HERE/prepare.py" --work "$WORK" --data "$DATA"
node dist/scripts/interop/models.js --work "$WORK" --minilm "$WORK/all-MiniLM-L6-v2" --tokenizer-texts "$WORK/texts.jsonl"

status=0
"$VENV/bin/python" "$HERE/check.py" --manifest "$WORK/manifest.json" --tokenization "$WORK/tokenization.json" | tee "$WORK/check-torch.txt" || status=1
"$VENV_ONNX/bin/python" "$HERE/check.py" --manifest "$WORK/manifest.json" --backend onnx | tee "$WORK/check-onnx.txt" || status=1
echo "interop: $(grep -h ' passed, ' "$WORK"/check-*.txt | tr '\n' ' ')" >&2
exit $status
