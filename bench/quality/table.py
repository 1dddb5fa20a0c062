#!/usr/bin/python3
"""Collects the quality runs into a Markdown table (bench/results/quality.md), followed by the
hand-written notes in bench/quality/notes.md.

Every finished run in OUT (its metrics.json, config.json, seconds.txt) becomes one row of
bench/results/quality_runs.jsonl, keyed by its run name (<task>_<model>[_pretrained[suffix]]); rows of
runs not in OUT are kept, so a session that re-runs some models (CPU hours each) does not drop
the others' results. The table is made from that file."""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])
here = pathlib.Path(__file__).parent
notes = here / "notes.md"
record = here.parent / "results" / "quality_runs.jsonl"
tasks = [("zheng", "Sorted PBMCs (zheng2017, 10 types), stratified 0.6/0.2/0.2, seed 2022"),
         ("sorted_to_pbmc3k", "2-study: train sorted (zheng2017_facs) -> test 10x_pbmc3k"),
         ("pbmc3k_to_sorted", "2-study: train 10x_pbmc3k -> test sorted (zheng2017_facs)")]
columns = ["model", "init", "preset", "genes", "accuracy", "macro_f1", "n_test", "epochs", "trainer", "monitor",
           "seconds", "left_out"]


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
        flags = (pre / "flags.txt").read_text().strip() if (pre / "flags.txt").exists() else ""
        return f"pre-trained {epochs} ep{', ' + flags if flags else ''}, {seconds(pre)} s"
    return "pre-trained"


def row_of(task, run):
    m = read(run / "metrics.json")
    cfg = read(run / "config.json")
    t = cfg["trainer"]
    left = m.get("excluded_labels", []) + [f"{l} (train)" for l in m.get("excluded_train_labels", [])]
    return {"task": task, "run": run.name, "model": m["model"], "init": init_text(run, cfg), "preset": m["preset"],
            "genes": str(cfg.get("shape", {}).get("n_genes", "")), "accuracy": f"{m['accuracy']:.4f}",
            "macro_f1": f"{m['macro_f1']:.4f}", "n_test": str(m["n_test"]), "epochs": str(t["epochs"]),
            "trainer": f"{t['optimizer']} {t['learning_rate']:g} {t['weight_decay']:g} {t.get('batch_size', '')}",
            "monitor": t.get("monitor", "val_loss"), "seconds": seconds(run), "left_out": ", ".join(left) or "-"}


rows = {}
if record.exists():
    for line in record.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            rows[r["run"]] = r
for key, _ in tasks:
    for run in sorted(out.glob(f"{key}_*")):
        if run.is_dir() and (run / "metrics.json").exists():
            rows[run.name] = row_of(key, run)
record.write_text("".join(json.dumps(rows[name]) + "\n" for name in sorted(rows)))

print("# Quality table (issue 5)\n")
print("Produced by `bench/quality/run.sh` (CLI `pretrain` / `finetune`, preset `small`, CPU). "
      "Accuracy and macro-F1 on the test part; 2-study runs use the cell types both studies share "
      "(test labels absent from training, and training labels absent from the test study, are "
      "left out and listed). Rows: `bench/results/quality_runs.jsonl`.\n")
for key, title in tasks:
    print(f"## {title}\n")
    print("| model | init | preset | genes | accuracy | macro-F1 | test cells | epochs | optimiser, lr, wd, batch | best epoch by | seconds | left out |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in sorted(rows):
        r = rows[name]
        if r["task"] == key:
            print("| " + " | ".join(r[c] for c in columns) + " |")
    print()
if notes.exists():
    print(notes.read_text().rstrip())
