#!/usr/bin/python3
"""Expected differential expression statistics (scipy.stats) for tests/engine/analysis/test_de.cpp.

Run from the repository root: /usr/bin/python3 tests/reference/analysis_de.py
Writes tests/data/analysis/de_reference.json: a small log-normalised matrix (CSR, float32
values, many ties at zero and at small counts), cell groups, and for group 0 vs rest and
group 1 vs group 2: Mann-Whitney U (two-sided, asymptotic, tie-corrected, no continuity
correction: scanpy's Wilcoxon), Welch's t-test, Benjamini-Hochberg adjusted p-values, and
scanpy's log fold change log2((expm1(mean_group) + 1e-9) / (expm1(mean_reference) + 1e-9)).
"""
import json
import numpy as np
from scipy import sparse, stats

rng = np.random.default_rng(5)
n, g = 150, 60
groups = rng.integers(0, 3, n)
base = rng.gamma(0.5, 1.0, g)
effect = np.exp(rng.normal(0, 1.0, (3, g)) * (rng.random(g) < 0.5))
counts = rng.poisson(base * effect[groups]).astype(float)
counts[:, 0] = 0  # a gene that is zero everywhere
x = np.log1p(counts / np.maximum(counts.sum(1, keepdims=True), 1) * 1e4).astype(np.float32)
csr = sparse.csr_matrix(x)
dense = x.astype(np.float64)


def bh(p):
    m = p.size
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1)
    return out


def compare(a, b):
    xa, xb = dense[a], dense[b]
    w_z, w_p, t_s, t_p = [], [], [], []
    for j in range(g):
        if np.all(np.concatenate([xa[:, j], xb[:, j]]) == xa[0, j]):
            w_z.append(0.0); w_p.append(1.0)
        else:
            res = stats.mannwhitneyu(xa[:, j], xb[:, j], use_continuity=False, alternative="two-sided", method="asymptotic")
            # z from U as scanpy scores it: (R1 - n1 (n1 + n2 + 1) / 2) / sd.
            ranks = stats.rankdata(np.concatenate([xa[:, j], xb[:, j]]))
            r1 = ranks[: xa.shape[0]].sum()
            n1, n2 = xa.shape[0], xb.shape[0]
            _, t = np.unique(ranks, return_counts=True)
            tc = 1 - (t ** 3 - t).sum() / ((n1 + n2) ** 3 - (n1 + n2))
            w_z.append((r1 - n1 * (n1 + n2 + 1) / 2) / np.sqrt(tc * n1 * n2 * (n1 + n2 + 1) / 12))
            w_p.append(res.pvalue)
        tt = stats.ttest_ind(xa[:, j], xb[:, j], equal_var=False)
        t_s.append(0.0 if np.isnan(tt.statistic) else tt.statistic)
        t_p.append(1.0 if np.isnan(tt.pvalue) else tt.pvalue)
    lfc = np.log2((np.expm1(xa.mean(0)) + 1e-9) / (np.expm1(xb.mean(0)) + 1e-9))
    return {"wilcoxon_score": w_z, "wilcoxon_pval": w_p, "wilcoxon_pval_adj": bh(np.array(w_p)).tolist(),
            "ttest_score": t_s, "ttest_pval": t_p, "ttest_pval_adj": bh(np.array(t_p)).tolist(),
            "logfoldchange": lfc.tolist()}


out = {"n": n, "g": g, "indptr": csr.indptr.tolist(), "indices": csr.indices.tolist(),
       "data": [float(v) for v in csr.data], "groups": groups.tolist(),
       "group0_vs_rest": compare(groups == 0, groups != 0),
       "group1_vs_group2": compare(groups == 1, groups == 2)}
with open("tests/data/analysis/de_reference.json", "w") as f:
    json.dump(out, f)
print("nnz", csr.nnz)
