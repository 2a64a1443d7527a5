#!/usr/bin/env python3
"""Hold folders written by `contrastive` to the real Python libraries (part of `npm run interop`).

    check.py --manifest WORK/manifest.json [--backend torch|onnx] [--tokenization WORK/tokenization.json]

For every model folder in the manifest (written by scripts/interop/models.ts: the toolkit's token ids
and embeddings of fixed EN/RU texts, without and with each saved prompt, short and cut at
max_seq_length):

  --backend torch (sentence-transformers 6 / transformers 5):
    * SentenceTransformer(folder) loads with no warning at all (missing/unexpected weights, a fallback
      to mean pooling, a version mismatch, a deprecated config key ...), has the modules, pooling,
      max_seq_length, similarity function and prompts the toolkit saved, and `encode` (plain and with
      each prompt_name) equals the toolkit's embeddings to --atol;
    * AutoTokenizer gives the toolkit's ids; AutoModel loads with no missing/unexpected keys and its
      last_hidden_state pooled as the folder says equals the toolkit's embeddings.
  --backend onnx (sentence-transformers with optimum-onnx, see requirements-onnx.txt):
    * SentenceTransformer(folder, backend="onnx") loads our onnx/model.onnx (no re-export) and
      `encode` equals the toolkit's embeddings.
  --tokenization: AutoTokenizer of each listed folder gives the toolkit's ids on a few thousand real texts.

One line per check (PASS/FAIL), a summary line, exit 1 when anything failed.
"""
import argparse
import contextlib
import io
import json
import logging
import re
import sys
import warnings

import numpy as np

results = []
# tqdm progress bars ("Loading weights: 100%|####| 39/39 [00:00<00:00, ...]"): output, not warnings
PROGRESS = re.compile(r"^[^|]*\d+%\|.*\| *\d+/\d+ \[")


def report(name, ok, detail=""):
    results.append(bool(ok))
    print(f"{'PASS' if ok else 'FAIL'}  {name}{'  ' + detail if detail else ''}", flush=True)


def max_abs(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float("inf") if a.shape != b.shape else float(np.max(np.abs(a - b)))


class Captured(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(f"[{record.name}] {record.getMessage()}")


@contextlib.contextmanager
def capture_warnings():
    """Every warning while loading: logging (transformers, sentence_transformers, optimum, root), Python
    warnings, and anything printed to stdout/stderr."""
    handler = Captured()
    loggers = [logging.getLogger(n) for n in ("", "transformers", "sentence_transformers", "optimum", "huggingface_hub")]
    for lg in loggers:
        lg.addHandler(handler)
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        try:
            yield handler.messages
        finally:
            for lg in loggers:
                lg.removeHandler(handler)
            handler.messages.extend(f"[warnings] {w.category.__name__}: {w.message}" for w in caught)
            printed = (out.getvalue() + err.getvalue()).replace("\r", "\n").splitlines()
            handler.messages.extend(f"[printed] {line}" for line in printed if line.strip() and not PROGRESS.search(line))


def pooling_mode(pooling):
    """'mean' / 'cls' in sentence-transformers 6 (pooling_mode) and 5 (get_pooling_mode_str)."""
    mode = getattr(pooling, "pooling_mode", None)
    if mode is None:
        return pooling.get_pooling_mode_str()
    mode = mode if isinstance(mode, str) else "+".join(mode)
    return {"mean_tokens": "mean", "cls_token": "cls"}.get(mode, mode)


def expected_modules(exp):
    return ["Transformer", "Pooling"] + (["Normalize"] if exp["normalize"] else [])


def check_sentence_transformers(name, exp, atol, backend):
    from sentence_transformers import SentenceTransformer

    label = f"{name} [ST {backend}]"
    kwargs = {"backend": backend} if backend != "torch" else {}
    with capture_warnings() as messages:
        model = SentenceTransformer(exp["path"], device="cpu", local_files_only=True, **kwargs)
    report(f"{label}: loads with no warnings", not messages, " | ".join(messages)[:2000])
    kinds = [type(m).__name__ for m in model]
    report(f"{label}: modules", kinds == expected_modules(exp), str(kinds))
    report(f"{label}: max_seq_length", model.max_seq_length == exp["max_seq_length"], str(model.max_seq_length))
    mode = pooling_mode(model[1])
    report(f"{label}: pooling", mode == exp["pooling"], mode)
    report(f"{label}: similarity_fn_name", model.similarity_fn_name == "cosine", str(model.similarity_fn_name))
    # sentence-transformers 6 adds {"query": "", "document": ""} for prompts a model lacks
    saved = {k: v for k, v in model.prompts.items() if v or k in exp["prompts"]}
    report(f"{label}: prompts", saved == exp["prompts"], json.dumps(model.prompts, ensure_ascii=False))
    if hasattr(model, "encode_document") and exp["prompts"]:
        # encode_query / encode_document (sentence-transformers 5+) pick the saved query / document prompt
        for fn, role in ((model.encode_query, "query"), (model.encode_document, "document")):
            case = next((c for c in exp["cases"] if c["prompt_name"] == role), None)
            if case is not None:
                diff = max_abs(fn(case["texts"], batch_size=3), case["embeddings"])
                report(f"{label}: {fn.__name__} uses the saved {role!r} prompt", diff <= atol, f"max abs diff {diff:.1e}")
    if backend == "onnx":
        sess = model[0].auto_model.model  # the onnxruntime session optimum opened
        path = getattr(model[0].auto_model, "model_path", None) or getattr(sess, "_model_path", "")
        report(f"{label}: runs our onnx/model.onnx", str(path).endswith("onnx/model.onnx"), str(path))
    worst = 0.0
    for case in exp["cases"]:
        kw = {"prompt_name": case["prompt_name"]} if case["prompt_name"] else {}
        emb = model.encode(case["texts"], batch_size=3, convert_to_numpy=True, **kw)
        diff = max_abs(emb, case["embeddings"])
        worst = max(worst, diff)
        report(f"{label} prompt={case['prompt_name']}: encode = toolkit", diff <= atol, f"max abs diff {diff:.1e}")
        tok = model.tokenizer
        prefix = exp["prompts"].get(case["prompt_name"], "") if case["prompt_name"] else ""
        ids = [tok(prefix + t, truncation=True, max_length=model.max_seq_length)["input_ids"] for t in case["texts"]]
        report(f"{label} prompt={case['prompt_name']}: token ids = toolkit", ids == case["input_ids"],
               "" if ids == case["input_ids"] else first_diff(ids, case["input_ids"], case["texts"]))
    return worst


def first_diff(got, want, texts):
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return f"text {i} {texts[i][:60]!r}: got {g[:40]} want {w[:40]}"
    return f"{len(got)} vs {len(want)} rows"


def check_transformers(name, exp, atol):
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    label = f"{name} [transformers]"
    cfg = AutoConfig.from_pretrained(exp["path"])
    report(f"{label}: AutoConfig model_type", cfg.model_type == exp["model_type"], cfg.model_type)
    with capture_warnings() as messages:
        tok = AutoTokenizer.from_pretrained(exp["path"])
        model, info = AutoModel.from_pretrained(exp["path"], output_loading_info=True)
    model.eval()
    report(f"{label}: AutoTokenizer + AutoModel load with no warnings", not messages, " | ".join(messages)[:2000])
    report(f"{label}: AutoTokenizer is fast", tok.is_fast, type(tok).__name__)
    problems = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")}
    report(f"{label}: AutoModel weights complete ({type(model).__name__})", not problems, json.dumps(problems, default=str)[:500])
    for case in exp["cases"]:
        prefix = exp["prompts"].get(case["prompt_name"], "") if case["prompt_name"] else ""
        texts = [prefix + t for t in case["texts"]]
        enc = tok(texts, padding=True, truncation=True, max_length=exp["max_seq_length"], return_tensors="pt")
        ids = [[i for i, m in zip(row, mask) if m] for row, mask in zip(enc["input_ids"].tolist(), enc["attention_mask"].tolist())]
        report(f"{label} prompt={case['prompt_name']}: token ids = toolkit", ids == case["input_ids"],
               "" if ids == case["input_ids"] else first_diff(ids, case["input_ids"], case["texts"]))
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state.double()
        mask = enc["attention_mask"].double().unsqueeze(-1)
        pooled = hidden[:, 0] if exp["pooling"] == "cls" else (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        if exp["normalize"]:
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        diff = max_abs(pooled.numpy(), case["embeddings"])
        report(f"{label} prompt={case['prompt_name']}: AutoModel + {exp['pooling']} pooling = toolkit", diff <= atol, f"max abs diff {diff:.1e}")


def check_tokenization(path):
    from transformers import AutoTokenizer

    with open(path) as f:
        data = json.load(f)
    texts = data["texts"]
    for label, t in data["tokenizers"].items():
        tok = AutoTokenizer.from_pretrained(t["folder"])
        got = tok(texts, truncation=True, max_length=data["max_length"])["input_ids"]
        bad = [i for i, (g, w) in enumerate(zip(got, t["ids"])) if g != w]
        detail = f"{len(texts) - len(bad)}/{len(texts)} texts identical ({type(tok).__name__})"
        if bad:
            detail += "; first: " + first_diff([got[bad[0]]], [t["ids"][bad[0]]], [texts[bad[0]]])
        report(f"tokenization {label}: AutoTokenizer ids = toolkit on real texts", not bad, detail)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--backend", choices=["torch", "onnx"], default="torch")
    ap.add_argument("--tokenization")
    ap.add_argument("--atol", type=float, default=1e-5)
    ap.add_argument("--only", action="append", help="check only this model (repeatable)")
    args = ap.parse_args()

    import sentence_transformers
    import torch
    import transformers
    torch.set_num_threads(2)
    versions = f"sentence-transformers {sentence_transformers.__version__}, transformers {transformers.__version__}, torch {torch.__version__}"
    if args.backend == "onnx":
        import onnxruntime
        import optimum.onnxruntime  # noqa: F401
        from importlib.metadata import version
        versions += f", optimum-onnx {version('optimum-onnx')}, onnxruntime {onnxruntime.__version__}"
    print(f"# {versions}", flush=True)
    with open(args.manifest) as f:
        manifest = json.load(f)
    worst = {}
    for name, exp in manifest.items():
        if args.only and name not in args.only:
            continue
        if args.backend == "onnx" and not exp["onnx"]:
            continue
        steps = [("sentence-transformers", lambda: check_sentence_transformers(name, exp, args.atol, args.backend))]
        if args.backend == "torch":
            steps.append(("transformers", lambda: check_transformers(name, exp, args.atol)))
        for what, fn in steps:
            try:
                w = fn()
                if w is not None:
                    worst[name] = w
            except Exception as e:  # one broken step must not hide the others
                report(f"{name}: {what} raised", False, f"{type(e).__name__}: {e}")
    if args.tokenization:
        check_tokenization(args.tokenization)
    for name, w in worst.items():
        print(f"# {name}: worst |ST {args.backend} encode - toolkit| = {w:.1e}")
    failed = results.count(False)
    print(f"{args.backend}: {len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
