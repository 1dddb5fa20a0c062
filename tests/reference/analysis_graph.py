#!/usr/bin/python3
"""Expected neighbour graph, UMAP quality and Leiden modularity on the PCA of
../shared/data/pbmc68k_reduced_700.h5ad (umap-learn 0.5.3, leidenalg 0.9, scikit-learn 1.2).

Run from the repository root: /usr/bin/python3 tests/reference/analysis_graph.py
Writes tests/data/analysis/graph_reference.json:
  pca        700 × 10 input (normalise to 1e4, log1p, sklearn PCA; rounded to 1e-6: it is the input)
  labels     obs['cell_type'] codes
  connectivities  umap-learn's fuzzy_simplicial_set (n_neighbors 15, exact neighbours) as CSR
  paga_*     scanpy's PAGA v1.2 connectivities and spanning tree for obs['cell_type'] (re-implemented)
  umap_a, umap_b  find_ab_params(spread 1, min_dist 0.5)
  umap_trustworthiness  sklearn trustworthiness (k = 15) of umap-learn's embedding
                        (min_dist 0.5, spread 1, 500 epochs, spectral init, random_state 0)
  leiden_modularity     leidenalg RBConfigurationVertexPartition (resolution 1, until stable),
                        modularity averaged over seeds 0..4
"""
import json
import anndata
import igraph as ig
import leidenalg
import numpy as np
import umap
from scipy import sparse
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness
from sklearn.metrics import pairwise_distances

a = anndata.read_h5ad("../shared/data/pbmc68k_reduced_700.h5ad")
x = a.X.toarray().astype(np.float64)
x = np.log1p(x / x.sum(1, keepdims=True) * 1e4)
pcs = np.round(PCA(n_components=10, svd_solver="full").fit_transform(x), 6)

# Connectivities as scanpy's neighbors (method umap, exact distances below 4096 cells).
d = pairwise_distances(pcs)
knn_idx = np.argsort(d, axis=1)[:, :15]
knn_d = np.take_along_axis(d, knn_idx, axis=1)
graph, _, _ = umap.umap_.fuzzy_simplicial_set(
    sparse.coo_matrix((pcs.shape[0], 1)), 15, None, None,
    knn_indices=knn_idx, knn_dists=knn_d.astype(np.float32), set_op_mix_ratio=1.0, local_connectivity=1.0)
conn = graph.tocsr()
conn.sort_indices()

emb = umap.UMAP(n_neighbors=15, min_dist=0.5, spread=1.0, n_epochs=500, random_state=0, init="spectral").fit_transform(pcs)
tw = trustworthiness(pcs, emb, n_neighbors=15)

upper = sparse.triu(conn, k=1).tocoo()
g = ig.Graph(n=conn.shape[0], edges=list(zip(upper.row.tolist(), upper.col.tolist())), directed=False)
g.es["weight"] = upper.data.tolist()
mods, ncl = [], []
for seed in range(5):
    part = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                    resolution_parameter=1.0, n_iterations=-1, seed=seed)
    mods.append(g.modularity(part.membership, weights="weight"))
    ncl.append(len(set(part.membership)))

# PAGA connectivities as scanpy 1.9's _compute_connectivities_v1_2 / _get_connectivities_tree_v1_2.
from scipy.sparse.csgraph import minimum_spanning_tree
codes = a.obs["cell_type"].cat.codes.values
ones = conn.copy()
ones.data = np.ones(len(ones.data))
src, dst = ones.nonzero()
gd = ig.Graph(n=ones.shape[0], edges=list(zip(src.tolist(), dst.tolist())), directed=True)
gd.es["weight"] = ones.data.tolist()
vc = ig.VertexClustering(gd, membership=codes.tolist())
ns = vc.sizes()
n_cells = sum(ns)
es_inner_cluster = [vc.subgraph(i).ecount() for i in range(len(ns))]
cg = vc.cluster_graph(combine_edges="sum")
k_groups = len(ns)
inter_es = np.zeros((k_groups, k_groups))
for e in cg.es:
    inter_es[e.source, e.target] += e["weight"]
inter_es = sparse.csr_matrix(inter_es)
es = np.array(es_inner_cluster) + inter_es.sum(axis=1).A1
inter_es = inter_es + inter_es.T
paga_conn = inter_es.copy().tolil()
coo = inter_es.tocoo()
for i, j, v in zip(coo.row, coo.col, coo.data):
    expected_random_null = (es[i] * ns[j] + es[j] * ns[i]) / (n_cells - 1)
    scaled = v / expected_random_null if expected_random_null != 0 else 1
    paga_conn[i, j] = min(scaled, 1)
paga_conn = paga_conn.tocsr()
inverse = paga_conn.copy()
inverse.data = 1.0 / inverse.data
tree = minimum_spanning_tree(inverse)
tree_edges = sorted([sorted([int(i), int(j)]) for i, j in zip(*tree.nonzero())])

ab = umap.umap_.find_ab_params(1.0, 0.5)
out = {
    "paga_groups": list(a.obs["cell_type"].cat.categories), "paga_connectivities": paga_conn.toarray().tolist(),
    "paga_tree": tree_edges,
    "umap_a": float(ab[0]), "umap_b": float(ab[1]),
    "pca": pcs.tolist(),
    "labels": a.obs["cell_type"].cat.codes.tolist(),
    "conn_indptr": conn.indptr.tolist(), "conn_indices": conn.indices.tolist(),
    "conn_data": [float("%.8g" % v) for v in conn.data],
    "umap_trustworthiness": tw,
    "leiden_modularity": float(np.mean(mods)), "leiden_modularities": mods, "leiden_n_clusters": ncl,
}
with open("tests/data/analysis/graph_reference.json", "w") as f:
    json.dump(out, f)
print("trustworthiness", tw, "modularity", mods, ncl, "nnz", conn.nnz)
