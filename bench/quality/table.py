#!/usr/bin/python3
"""Collects the quality runs' metrics.json into a Markdown table (bench/results/quality.md),
followed by the hand-written notes in bench/quality/notes.md."""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
notes = pathlib.Path(__file__).with_name("notes.md")
tasks = [("zheng", "Sorted PBMCs (zheng2017, 10 types), stratified 0.6/0.2/0.2, seed 2022"),
         ("sorted_to_pbmc3k", "2-study: train sorted (zheng2017_facs) -> test 10x_pbmc3k"),
         ("pbmc3k_to_sorted", "2-study: train 10x_pbmc3k -> test sorted (zheng2017_facs)")]


def read(path):
    return json.loads(path.read_text())


def seconds(run):
    f = run / "seconds.txt"
    return f.read_text().strip() if f.exists() else ""


def init_text(run, cfg):
    init = cfg.get("init", "")
    if not init:
        return "scratch"
    pre = pathlib.Path(init)
    if not pre.is_absolute() and not pre.exists():
        pre = run.parent / pre  # a run started from inside OUT
    if (pre / "history.json").exists():
        epochs = len(read(pre / "history.json").get("epochs", []))
        return f"pre-trained {epochs} ep, {seconds(pre)} s"
    return "pre-trained"


print("# Quality table (issue 5)\n")
print("Produced by `bench/quality/run.sh` (CLI `pretrain` / `finetune`, preset `small`, CPU). "
      "Accuracy and macro-F1 on the test part; 2-study runs use the cell types both studies share "
      "(test labels absent from training, and training labels absent from the test study, are "
      "left out and listed).\n")
for key, title in tasks:
    print(f"## {title}\n")
    print("| model | init | preset | genes | accuracy | macro-F1 | test cells | epochs | optimiser, lr, wd, batch | best epoch by | seconds | left out |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run in sorted(out.glob(f"{key}_*")):
        if not run.is_dir() or not (run / "metrics.json").exists():
            continue
        m = read(run / "metrics.json")
        cfg = read(run / "config.json")
        t = cfg["trainer"]
        left = m.get("excluded_labels", []) + [f"{l} (train)" for l in m.get("excluded_train_labels", [])]
        genes = cfg.get("shape", {}).get("n_genes", "")
        print(f"| {m['model']} | {init_text(run, cfg)} | {m['preset']} | {genes} | {m['accuracy']:.4f} | {m['macro_f1']:.4f} | "
              f"{m['n_test']} | {t['epochs']} | {t['optimizer']} {t['learning_rate']:g} {t['weight_decay']:g} {t.get('batch_size', '')} | "
              f"{t.get('monitor', 'val_loss')} | {seconds(run)} | {', '.join(left) or '-'} |")
    print()
if notes.exists():
    print(notes.read_text().rstrip())
