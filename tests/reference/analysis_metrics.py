#!/usr/bin/python3
"""Expected values for the classification and clustering metrics (tests/engine/analysis).

Run from the repository root with Debian's python3 (scikit-learn 1.2):
    /usr/bin/python3 tests/reference/analysis_metrics.py
Writes tests/data/analysis/metrics_reference.json.
"""
import json
import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.neighbors import NearestNeighbors
from scipy.sparse.csgraph import connected_components
from scipy.sparse import csr_matrix

rng = np.random.default_rng(7)

# --- Classification: 4 classes, scores rounded to 2 decimals so that ties occur.
n, k = 240, 4
truth = rng.integers(0, k, n)
logits = rng.normal(size=(n, k)) + 1.2 * np.eye(k)[truth]
proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
proba = np.round(proba, 2)
pred = proba.argmax(1)
classification = {
    "truth": truth.tolist(), "pred": pred.tolist(), "proba": proba.tolist(),
    "accuracy": metrics.accuracy_score(truth, pred),
    "macro_f1": metrics.f1_score(truth, pred, average="macro"),
    "weighted_f1": metrics.f1_score(truth, pred, average="weighted"),
    "confusion_normalized": metrics.confusion_matrix(truth, pred, normalize="true").tolist(),
    "roc": [], "pr": [],
}
aucs = []
for c in range(k):
    y = (truth == c).astype(int)
    fpr, tpr, thr = metrics.roc_curve(y, proba[:, c], drop_intermediate=False)
    auc = metrics.roc_auc_score(y, proba[:, c])
    aucs.append(auc)
    prec, rec, pthr = metrics.precision_recall_curve(y, proba[:, c])
    classification["roc"].append({"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thr.tolist(), "auc": auc})
    classification["pr"].append({"precision": prec.tolist(), "recall": rec.tolist(), "thresholds": pthr.tolist(),
                                 "average_precision": metrics.average_precision_score(y, proba[:, c])})
classification["macro_auc"] = float(np.mean(aucs))
classification["macro_auc_sklearn"] = metrics.roc_auc_score(truth, proba / proba.sum(1, keepdims=True),
                                                            multi_class="ovr", average="macro")

# --- Clustering: 3 gaussian groups in 8 dimensions, 2 batches shifting the data.
m, d = 300, 8
labels = rng.integers(0, 3, m)
batches = rng.integers(0, 2, m)
centres = rng.normal(scale=3.0, size=(3, d))
x = centres[labels] + rng.normal(size=(m, d)) + 0.8 * batches[:, None]
clusters = labels.copy()
flip = rng.random(m) < 0.15
clusters[flip] = rng.integers(0, 4, flip.sum())

knn = NearestNeighbors(n_neighbors=16, metric="cosine", algorithm="brute").fit(x)
_, idx = knn.kneighbors(x)
assert (idx[:, 0] == np.arange(m)).all()
neigh = idx[:, 1:]

# scIB graph connectivity on the symmetrised kNN graph.
rows = np.repeat(np.arange(m), 15)
adj = csr_matrix((np.ones(rows.size), (rows, neigh.ravel())), shape=(m, m))
adj = ((adj + adj.T) > 0).astype(float)
per_label = []
for lab in np.unique(labels):
    sel = np.where(labels == lab)[0]
    _, comp = connected_components(adj[sel][:, sel], connection="strong")
    per_label.append(np.bincount(comp).max() / sel.size)
graph_conn = float(np.mean(per_label))

bgc = np.mean([np.mean((labels[neigh[i]] == labels[i]) & (batches[neigh[i]] != batches[i])) for i in range(m)])


def compute_simpson(distances, indices, labels, n_categories, perplexity, tol=1e-5):
    # harmonypy.lisi.compute_simpson
    n = distances.shape[1]
    P = np.zeros(distances.shape[0])
    simpson = np.zeros(n)
    logU = np.log(perplexity)
    for i in range(n):
        beta, betamin, betamax = 1, -np.inf, np.inf
        P = np.exp(-distances[:, i] * beta)
        P_sum = np.sum(P)
        if P_sum == 0:
            H, P = 0, np.zeros(distances.shape[0])
        else:
            H = np.log(P_sum) + beta * np.sum(distances[:, i] * P) / P_sum
            P = P / P_sum
        Hdiff = H - logU
        for t in range(50):
            if abs(Hdiff) < tol:
                break
            if Hdiff > 0:
                betamin = beta
                beta = beta * 2 if not np.isfinite(betamax) else (beta + betamax) / 2
            else:
                betamax = beta
                beta = beta / 2 if not np.isfinite(betamin) else (beta + betamin) / 2
            P = np.exp(-distances[:, i] * beta)
            P_sum = np.sum(P)
            if P_sum == 0:
                H, P = 0, np.zeros(distances.shape[0])
            else:
                H = np.log(P_sum) + beta * np.sum(distances[:, i] * P) / P_sum
                P = P / P_sum
            Hdiff = H - logU
        if H == 0:
            simpson[i] = -1
        for cat in labels.categories:
            q = labels[indices[:, i]] == cat
            if np.any(q):
                simpson[i] += np.sum(P[q]) ** 2
    return simpson


def lisi(x, lab, perplexity=30):
    nn = NearestNeighbors(n_neighbors=perplexity * 3, algorithm="brute").fit(x)
    dist, ind = nn.kneighbors(x)
    cat = pd.Categorical(lab)
    return 1 / compute_simpson(dist[:, 1:].T, ind[:, 1:].T, cat, len(cat.categories), perplexity)


clustering = {
    "embedding": x.tolist(), "labels": labels.tolist(), "clusters": clusters.tolist(), "batches": batches.tolist(),
    "nmi": metrics.normalized_mutual_info_score(labels, clusters),
    "ari": metrics.adjusted_rand_score(labels, clusters),
    "silhouette_cosine": metrics.silhouette_score(x, labels, metric="cosine"),
    "silhouette_euclidean": metrics.silhouette_score(x, labels, metric="euclidean"),
    "knn_cosine": neigh.tolist(),
    "graph_connectivity": graph_conn,
    "batch_graph_connectivity": float(bgc),
    "clisi": lisi(x, labels).tolist(),
    "ilisi": lisi(x, batches).tolist(),
}
out = {"classification": classification, "clustering": clustering}
with open("tests/data/analysis/metrics_reference.json", "w") as f:
    json.dump(out, f)
