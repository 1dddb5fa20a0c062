#!/usr/bin/python3
"""Cellwright's kNN / UMAP / Leiden beside hnswlib (Python), umap-learn and leidenalg,
side by side in one run on the same machine and the same 50,000 × 50 embedding.

    cmake --build build --target bench_analysis
    /usr/bin/python3 bench/analysis/run_bench.py [--cells 50000] [--build build]

Writes bench/results/analysis_<cells>.json and .md. The embedding is a seeded mixture of
20 anisotropic Gaussian clusters with PCA-like decaying variances. Trustworthiness (k = 15)
is measured on a fixed 5,000-cell subsample (scikit-learn's needs n² memory).
umap-learn's numba compilation is excluded by a warm-up run on 2,000 cells.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--cells", type=int, default=50000)
parser.add_argument("--dims", type=int, default=50)
parser.add_argument("--build", default="build")
args = parser.parse_args()
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

rng = np.random.default_rng(0)
n, d, k_clusters = args.cells, args.dims, 20
scales = np.exp(-np.arange(d) / 12.0) * 6
centres = rng.normal(size=(k_clusters, d)) * scales
labels = rng.integers(0, k_clusters, n)
x = centres[labels] + rng.normal(size=(n, d)) * scales * rng.uniform(0.2, 0.6, (k_clusters, 1))[labels]
x = x.astype(np.float64)
sample = np.sort(rng.choice(n, min(5000, n), replace=False))

load = os.getloadavg()
results = {"cells": n, "dims": d, "cpu_count": os.cpu_count(), "load_average_at_start": load[0]}
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "x.bin")
    with open(path, "wb") as f:
        np.array([n, d], dtype=np.int64).tofile(f)
        x.tofile(f)
    binary = os.path.join(root, args.build, "bench", "analysis", "bench_analysis")
    t0 = time.perf_counter()
    subprocess.run([binary, path, tmp], check=True, stdout=subprocess.DEVNULL)
    results["cellwright_wall_s"] = time.perf_counter() - t0
    cw = json.load(open(os.path.join(tmp, "cw_timings.json")))
    cw_umap = np.fromfile(os.path.join(tmp, "cw_umap.f32"), dtype=np.float32).reshape(n, 2)
    cw_knn = np.fromfile(os.path.join(tmp, "cw_knn.i64"), dtype=np.int64).reshape(n, 15)
    indptr = np.fromfile(os.path.join(tmp, "cw_graph_indptr.i64"), dtype=np.int64)
    indices = np.fromfile(os.path.join(tmp, "cw_graph_indices.i32"), dtype=np.int32)
    data = np.fromfile(os.path.join(tmp, "cw_graph_data.f32"), dtype=np.float32)
results["cellwright"] = cw

# Exact neighbours of 1,000 query cells, for recall.
queries = rng.choice(n, 1000, replace=False)
d2 = ((x[queries, None, :] - x[None, :, :]) ** 2).sum(-1) if n <= 20000 else np.stack(
    [((x - x[q]) ** 2).sum(1) for q in queries])
d2[np.arange(len(queries)), queries] = np.inf
truth = np.argsort(d2, axis=1)[:, :14]


def recall(found):
    hits = sum(len(set(truth[i]) & set(found[i])) for i in range(len(queries)))
    return hits / truth.size


results["cellwright"]["knn_recall_at_15"] = recall([row[1:] for row in cw_knn[queries]])

try:
    import hnswlib
    t0, c0 = time.perf_counter(), time.process_time()
    index = hnswlib.Index(space="l2", dim=d)
    index.init_index(max_elements=n)  # defaults: M 16, ef_construction 200
    index.add_items(x.astype(np.float32))
    index.set_ef(64)  # the same search beam as Cellwright's default for k = 15
    labels_h, _ = index.knn_query(x.astype(np.float32), k=15)
    results["hnswlib_python"] = {"knn_s": time.perf_counter() - t0, "knn_cpu_s": time.process_time() - c0,
                                 "knn_recall_at_15": recall([[j for j in row if j != q][:14]
                                                             for row, q in zip(labels_h[queries], queries)])}
except ImportError:
    results["hnswlib_python"] = "not installed (apt-get install python3-hnswlib)"

import umap
umap.UMAP(random_state=0, n_epochs=10).fit_transform(x[:2000])  # numba compilation
t0, c0 = time.perf_counter(), time.process_time()
ref_umap = umap.UMAP(n_neighbors=15, min_dist=0.5, spread=1.0, random_state=0).fit_transform(x)
results["umap_learn"] = {"umap_total_s": time.perf_counter() - t0, "umap_total_cpu_s": time.process_time() - c0}

from sklearn.manifold import trustworthiness
results["cellwright"]["trustworthiness_5k"] = trustworthiness(x[sample], cw_umap[sample], n_neighbors=15)
results["umap_learn"]["trustworthiness_5k"] = trustworthiness(x[sample], ref_umap[sample], n_neighbors=15)

import igraph as ig
import leidenalg
from scipy import sparse
conn = sparse.csr_matrix((data, indices, indptr), shape=(n, n))
upper = sparse.triu(conn, k=1).tocoo()
g = ig.Graph(n=n, edges=list(zip(upper.row.tolist(), upper.col.tolist())), directed=False)
g.es["weight"] = upper.data.astype(float).tolist()
t0, c0 = time.perf_counter(), time.process_time()
part = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                resolution_parameter=1.0, n_iterations=-1, seed=0)
results["leidenalg"] = {"leiden_s": time.perf_counter() - t0, "leiden_cpu_s": time.process_time() - c0,
                        "modularity": g.modularity(part.membership, weights="weight"),
                        "clusters": len(set(part.membership))}

r = results
ratios = {
    "umap_speedup_vs_umap_learn": r["umap_learn"]["umap_total_s"] / r["cellwright"]["umap_total_s"],
    "leiden_speedup_vs_leidenalg": r["leidenalg"]["leiden_s"] / r["cellwright"].get("leiden_s", float("nan")),
}
if isinstance(r["hnswlib_python"], dict):
    ratios["knn_speedup_vs_hnswlib_python"] = r["hnswlib_python"]["knn_s"] / r["cellwright"]["neighbors_s"]
results["ratios"] = ratios
os.makedirs(os.path.join(root, "bench", "results"), exist_ok=True)
stem = os.path.join(root, "bench", "results", f"analysis_{n}")
with open(stem + ".json", "w") as f:
    json.dump(results, f, indent=2)
rows = [("UMAP total (kNN + graph + layout)", r["cellwright"]["umap_total_s"], r["umap_learn"]["umap_total_s"],
         r["cellwright"]["umap_total_cpu_s"], r["umap_learn"]["umap_total_cpu_s"], "umap-learn 0.5.3"),
        ("Leiden", r["cellwright"].get("leiden_s", float("nan")), r["leidenalg"]["leiden_s"],
         r["cellwright"].get("leiden_cpu_s", float("nan")), r["leidenalg"]["leiden_cpu_s"], "leidenalg 0.9")]
if isinstance(r["hnswlib_python"], dict):
    rows.insert(0, ("kNN k=15 (Cellwright: kNN + fuzzy graph)", r["cellwright"]["neighbors_s"], r["hnswlib_python"]["knn_s"],
                    r["cellwright"]["neighbors_cpu_s"], r["hnswlib_python"]["knn_cpu_s"], "hnswlib Python, kNN only"))
with open(stem + ".md", "w") as f:
    f.write(f"# Analysis benchmark: {n} cells x {d} dims, {os.cpu_count()} cores, side by side\n\n")
    f.write(f"Load average at the start: {load[0]:.1f} (other jobs share the machine: CPU seconds are the steadier measure).\n\n")
    f.write("| step | Cellwright wall s | reference wall s | wall speed-up | Cellwright CPU s | reference CPU s | CPU ratio | reference |\n"
            "|---|---|---|---|---|---|---|---|\n")
    for name, ours, theirs, ours_cpu, theirs_cpu, ref in rows:
        f.write(f"| {name} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.2f}x | {ours_cpu:.2f} | {theirs_cpu:.2f} | "
                f"{theirs_cpu / ours_cpu:.2f}x | {ref} |\n")
    f.write("\nSettings: Cellwright hnswlib index M 16, ef_construction 100, ef 64, then the fuzzy simplicial set; "
            "hnswlib Python M 16, ef_construction 200 (its defaults), ef 64. UMAP: min_dist 0.5, spread 1, 200 epochs, "
            "spectral init, 2 threads (umap-learn seeded: single-threaded layout).\n")
    f.write(f"\nTrustworthiness (k=15, 5,000-cell subsample): Cellwright {r['cellwright']['trustworthiness_5k']:.4f}, "
            f"umap-learn {r['umap_learn']['trustworthiness_5k']:.4f}.\n")
    f.write(f"Recall@15 on 1,000 queries: Cellwright {r['cellwright']['knn_recall_at_15']:.4f}")
    if isinstance(r["hnswlib_python"], dict):
        f.write(f", hnswlib Python {r['hnswlib_python']['knn_recall_at_15']:.4f}")
    f.write(f".\nModularity: Cellwright {r['cellwright'].get('leiden_modularity', float('nan')):.4f}, "
            f"leidenalg {r['leidenalg']['modularity']:.4f} (same graph).\n")
print(json.dumps(results, indent=2))
