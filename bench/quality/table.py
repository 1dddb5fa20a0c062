#!/usr/bin/python3
"""Collects the quality runs' metrics.json into a Markdown table (bench/results/quality.md)."""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
tasks = [("zheng", "Sorted PBMCs (zheng2017, 10 types), stratified 0.6/0.2/0.2, seed 2022"),
         ("sorted_to_pbmc3k", "2-study: train sorted (zheng2017_facs) -> test 10x_pbmc3k"),
         ("pbmc3k_to_sorted", "2-study: train 10x_pbmc3k -> test sorted (zheng2017_facs)")]
print("# Quality table (issue 5)\n")
print("Produced by `bench/quality/run.sh` (CLI `finetune`, preset `small`, CPU, from scratch, "
      "no pre-training). Accuracy and macro-F1 on the test part; 2-study runs test only the "
      "labels present in training (the others are listed as excluded).\n")
for key, title in tasks:
    print(f"## {title}\n")
    print("| model | preset | accuracy | macro-F1 | test cells | epochs | seconds | excluded labels |")
    print("|---|---|---|---|---|---|---|---|")
    for run in sorted(out.glob(f"{key}_*")):
        if not run.is_dir() or not (run / "metrics.json").exists():
            continue
        m = json.loads((run / "metrics.json").read_text())
        cfg = json.loads((run / "config.json").read_text())
        seconds = (run / "seconds.txt").read_text().strip() if (run / "seconds.txt").exists() else ""
        excluded = ", ".join(m.get("excluded_labels", [])) or "-"
        print(f"| {m['model']} | {m['preset']} | {m['accuracy']:.4f} | {m['macro_f1']:.4f} | {m['n_test']} | "
              f"{cfg['trainer']['epochs']} | {seconds} | {excluded} |")
    print()
