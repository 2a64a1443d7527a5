#!/usr/bin/env bash
# Side by side: fine-tune the published all-MiniLM-L6-v2 with the toolkit and with sentence-transformers
# (MultipleNegativesRankingLoss), same pairs and hyper-parameters, and evaluate both (and the starting
# point) with the same metric code: `contrastive eval` on held-out pairs. Run after `npm run interop`
# (it needs the venv and the extracted model). Not part of npm test.
#
#   INTEROP_WORK (default checkpoints/interop), INTEROP_DATA (default ../shared/data)
#   FT_TRAIN=480 FT_EVAL=200 pairs (title -> abstract from scirepeval search_beir/corpus.jsonl)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=${INTEROP_VENV:-$ROOT/../venv-st}
WORK=${INTEROP_WORK:-$ROOT/checkpoints/interop}
DATA=${INTEROP_DATA:-$ROOT/../shared/data}
FT=$WORK/finetune
MINILM=$WORK/all-MiniLM-L6-v2
CLI="node dist/src/cli/main.js"
mkdir -p "$FT"

"$VENV/bin/python" - "$DATA/scirepeval/search_beir/corpus.jsonl" "$FT" "${FT_TRAIN:-480}" "${FT_EVAL:-200}" <<'PY'
import json, sys
src, out, n_train, n_eval = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(l) for l in open(src, encoding="utf-8") if l.strip()]
pairs = [{"title": r["title"].strip(), "abstract": r["text"].strip()} for r in rows if r["title"].strip() and r["text"].strip()]
for name, part in (("train", pairs[:n_train]), ("eval", pairs[n_train:n_train + n_eval])):
    with open(f"{out}/{name}.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(p, ensure_ascii=False) + "\n" for p in part)
print(f"finetune data: {min(n_train, len(pairs))} train / {len(pairs[n_train:n_train + n_eval])} eval pairs of {len(pairs)}", file=sys.stderr)
PY
for s in train eval; do $CLI prepare --input "$FT/$s.jsonl" --output "$FT/$s.arrow" --anchor title --positive abstract >&2; done

cat > "$FT/recipe.json" <<JSON
{
  "name": "minilm-side-by-side", "seed": 42,
  "model": { "from": "$MINILM" },
  "datasets": [{ "name": "search-title-abstract", "path": "$FT/train.arrow", "loss": { "name": "infonce", "scale": 20 } }],
  "data": { "maxLength": 64, "shuffleBuffer": 1000 },
  "train": { "batchSize": 16, "epochs": 1, "lr": 5e-5, "warmupRatio": 0.1, "weightDecay": 0.01, "maxGradNorm": 1.0 }
}
JSON

evaluate() { $CLI eval --model "$1" --data "$FT/eval.arrow" --max-length 64 --json --backend wasm 2>/dev/null; }
echo "== before" >&2
before=$(evaluate "$MINILM")

echo "== contrastive train" >&2
t0=$(date +%s.%N)
$CLI train --config "$FT/recipe.json" --output "$FT/toolkit" --overwrite --backend wasm 2>&1 | tee "$FT/toolkit.log" >&2
t1=$(date +%s.%N)
toolkit_loop=$(grep -o 'done in [0-9.]* s' "$FT/toolkit.log" | grep -o '[0-9.]*' | tail -1)
toolkit=$(evaluate "$FT/toolkit/final")

echo "== sentence-transformers train" >&2
t2=$(date +%s.%N)
st_run=$("$VENV/bin/python" scripts/interop/finetune_st.py --model "$MINILM" --train "$FT/train.jsonl" --output "$FT/st" --recipe "$FT/recipe.json" 2>"$FT/st.log" | tail -1)
t3=$(date +%s.%N)
st=$(evaluate "$FT/st")

# agreement of the two starting points: the toolkit vs sentence-transformers on the untrained model
agree=$("$VENV/bin/python" - "$WORK/manifest.json" <<'PY'
import json, sys
import numpy as np
from sentence_transformers import SentenceTransformer
exp = json.load(open(sys.argv[1]))["minilm-packaged"]
m = SentenceTransformer(exp["path"], device="cpu")
case = exp["cases"][0]
print(float(np.max(np.abs(m.encode(case["texts"]) - np.asarray(case["embeddings"])))))
PY
)
node -e '
const [before, toolkit, st, stRun, toolkitWall, toolkitLoop, stWall, agree] = process.argv.slice(1);
const r = {
  before: JSON.parse(before),
  toolkit: { ...JSON.parse(toolkit), train_seconds: +toolkitLoop, process_seconds: +(+toolkitWall).toFixed(1) },
  sentence_transformers: { ...JSON.parse(st), ...JSON.parse(stRun), process_seconds: +(+stWall).toFixed(1) },
  start_max_abs_diff: +agree,
};
console.log(JSON.stringify(r, null, 1));
' "$before" "$toolkit" "$st" "$st_run" "$(echo "$t1 - $t0" | bc)" "$toolkit_loop" "$(echo "$t3 - $t2" | bc)" "$agree" | tee "$FT/result.json"
