#!/usr/bin/python3
"""Expected PCA results (scikit-learn 1.2, exact SVD) for tests/engine/analysis/test_pca.cpp.

Run from the repository root: /usr/bin/python3 tests/reference/analysis_pca.py
Writes tests/data/analysis/pca_reference.json: a small sparse log-normalised matrix
(CSR, float32 values), an HVG mask, and scikit-learn's variance ratios for all genes, the
HVGs, and scanpy-style scaled data (unit variance, ddof 1, clipped at 10).
"""
import json
import numpy as np
from scipy import sparse
from sklearn.decomposition import PCA

rng = np.random.default_rng(11)
n, g, types = 300, 200, 5
cell_type = rng.integers(0, types, n)
base = rng.gamma(0.3, 0.6, g)
effect = np.exp(rng.normal(0, 1.5, (types, g)) * (rng.random(g) < 0.4))
mu = base * effect[cell_type] * rng.lognormal(0, 0.3, n)[:, None]
counts = rng.poisson(mu).astype(float)
counts[rng.random((n, g)) < 0.002] += 60  # rare spikes, so that scaling clips some values
size = counts.sum(1, keepdims=True)
x = np.log1p(counts / np.maximum(size, 1) * 1e4).astype(np.float32)
csr = sparse.csr_matrix(x)
hvg = np.zeros(g, bool)
hvg[rng.choice(g, 80, replace=False)] = True

def ratios(dense, k=20):
    p = PCA(n_components=k, svd_solver="full").fit(dense)
    return p, p.explained_variance_ratio_.tolist()

dense = csr.toarray().astype(np.float64)
p_all, r_all = ratios(dense)
emb = np.round(p_all.transform(dense)[:, :3], 9)
_, r_hvg = ratios(dense[:, hvg])
mean = dense.mean(0)
std = dense.std(0, ddof=1)
std[std == 0] = 1
z = (dense - mean) / std
clipped = int((z > 10).sum())
z[z > 10] = 10
_, r_scaled = ratios(z)

out = {
    "n": n, "g": g,
    "indptr": csr.indptr.tolist(), "indices": csr.indices.tolist(), "data": [float(v) for v in csr.data],
    "hvg": hvg.tolist(),
    "ratio_all": r_all, "ratio_hvg": r_hvg, "ratio_scaled": r_scaled, "clipped_values": clipped,
    "embedding_all_first3": emb.tolist(),
}
with open("tests/data/analysis/pca_reference.json", "w") as f:
    json.dump(out, f)
print("nnz", csr.nnz, "clipped", clipped, "ratios", r_all[:3])
