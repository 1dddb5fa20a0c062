#!/usr/bin/python3
"""Reference logistic regression for issue 5's cross-study anchors (0.86 sorted -> pbmc3k,
0.83 pbmc3k -> sorted): scikit-learn on normalize_total(1e4) + log1p of all genes.
Prints accuracy and macro-F1 with and without the training study's own types (e.g. CD34+,
absent from pbmc3k): the anchors are the runs on the shared types only.
Measured (scikit-learn 1.2, lbfgs): sorted -> pbmc3k 0.8568 / macro-F1 0.8532 (0.8358 when
trained on all sorted types); pbmc3k -> sorted 0.8273 / 0.8166 (0.8273 / 0.8162).
Usage: bench/quality/logreg_anchor.py [DATA_DIR]"""
import sys
import numpy as np
import anndata as ad
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

data = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
a = ad.read_h5ad(f"{data}/pbmc_2study_facs_pbmc3k_6512.h5ad")
X = sparse.csr_matrix(a.X, dtype=np.float64)
tot = np.asarray(X.sum(1)).ravel()
Xn = sparse.diags(1e4 / tot) @ X
Xn.data = np.log1p(Xn.data)
y = a.obs["cell_type"].astype(str).values
batch = a.obs["batch"].astype(str).values


def run(train_b, test_b, C=1.0, shared_train=True):
    tr, te = batch == train_b, batch == test_b
    shared = set(y[tr]) & set(y[te])
    te &= np.isin(y, list(shared))
    if shared_train:
        tr &= np.isin(y, list(shared))
    clf = LogisticRegression(C=C, max_iter=1000)
    clf.fit(Xn[tr], y[tr])
    p = clf.predict(Xn[te])
    return accuracy_score(y[te], p), f1_score(y[te], p, average="macro"), int(tr.sum()), int(te.sum())


for train_b, test_b in [("zheng2017_facs", "10x_pbmc3k"), ("10x_pbmc3k", "zheng2017_facs")]:
    for shared_train in [True, False]:
        acc, f1, ntr, nte = run(train_b, test_b, 1.0, shared_train)
        print(f"{train_b} -> {test_b}  train on shared types only={shared_train}: "
              f"accuracy {acc:.4f} macro-F1 {f1:.4f} (train {ntr}, test {nte})", flush=True)
