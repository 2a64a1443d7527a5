#!/usr/bin/env python3
"""The sentence-transformers half of the side-by-side fine-tune (scripts/interop/finetune.sh).

    finetune_st.py --model FOLDER --train train.jsonl --output DIR --recipe recipe.json

Fine-tunes FOLDER with MultipleNegativesRankingLoss (scale 20, cosine) on the {"title", "abstract"}
pairs of train.jsonl with the hyper-parameters of the toolkit recipe (batch size, lr, warmup ratio,
epochs, weight decay, max grad norm, max length, seed) and sentence-transformers' NoDuplicates
batch sampler, drops the last incomplete batch as the toolkit does, and saves the model to DIR.
Prints one JSON line: wall seconds of training and steps.
"""
import argparse
import json
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--recipe", required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import torch
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.base.sampler import BatchSamplers

    torch.set_num_threads(args.threads)
    with open(args.recipe) as f:
        recipe = json.load(f)
    tr = recipe["train"]
    with open(args.train, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    data = Dataset.from_dict({"anchor": [r["title"] for r in rows], "positive": [r["abstract"] for r in rows]})

    model = SentenceTransformer(args.model, device="cpu")
    model.max_seq_length = recipe["data"]["maxLength"]
    loss = MultipleNegativesRankingLoss(model, scale=recipe["datasets"][0]["loss"].get("scale", 20))
    targs = SentenceTransformerTrainingArguments(
        output_dir=args.output + ".trainer", num_train_epochs=tr["epochs"], per_device_train_batch_size=tr["batchSize"],
        learning_rate=tr["lr"], warmup_ratio=tr["warmupRatio"], weight_decay=tr["weightDecay"], max_grad_norm=tr["maxGradNorm"],
        lr_scheduler_type="linear", seed=recipe["seed"], batch_sampler=BatchSamplers.NO_DUPLICATES, dataloader_drop_last=True,
        save_strategy="no", logging_steps=5, report_to=[], use_cpu=True,
    )
    trainer = SentenceTransformerTrainer(model=model, args=targs, train_dataset=data, loss=loss)
    t0 = time.time()
    result = trainer.train()
    seconds = time.time() - t0
    model.save(args.output)
    print(json.dumps({"train_seconds": round(seconds, 1), "steps": result.global_step, "train_loss": result.training_loss}))


if __name__ == "__main__":
    main()
