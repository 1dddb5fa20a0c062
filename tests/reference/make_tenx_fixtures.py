#!/usr/bin/python3
"""Makes small 10x Genomics HDF5 (v3, v2), Matrix Market folders (v3 gzip, v2 plain) and
CSV/TSV fixtures under tests/data/io/tenx/ from 40 cells x 50 genes of the shared zheng2017
file, plus expectations.json computed from the arrays written. Var names follow scanpy's
read_10x_* convention: symbols made unique with anndata.utils.make_index_unique.
Run: /usr/bin/python3 tests/reference/make_tenx_fixtures.py
"""
import gzip
import json
import os

import h5py
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp
from anndata.utils import make_index_unique

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, "..", "shared", "data", "zheng2017_pbmc_facs_3874.h5ad")
OUT = os.path.join(ROOT, "tests", "data", "io", "tenx")
N_CELLS, N_GENES, N_ADT = 40, 50, 3


def load():
    with h5py.File(SHARED, "r") as f:
        g = f["X"]
        x = sp.csr_matrix((g["data"][:], g["indices"][:], g["indptr"][:]), shape=tuple(g.attrs["shape"]))
        symbols = np.array([s.decode() for s in f["var/_index"][:]])
        ids = np.array([s.decode() for s in f["var/gene_ids"][:]])
    x = x[:N_CELLS]
    top = np.sort(np.argsort(-np.asarray(x.sum(axis=0)).ravel(), kind="stable")[:N_GENES])
    counts = x[:, top].toarray().astype(np.int64)
    symbols, ids = list(symbols[top]), list(ids[top])
    symbols[10] = symbols[9]  # a duplicated symbol, as in real 10x files
    barcodes = ["%s-1" % "".join(np.random.default_rng(i).choice(list("ACGT"), 16)) for i in range(N_CELLS)]
    return counts, symbols, ids, barcodes


def write_h5_v3(path, counts, adt, symbols, ids, barcodes):
    full = np.hstack([counts, adt])  # cells x features
    csc = sp.csc_matrix(full.T)      # features x cells, stored CSC
    names = symbols + ["CD3_TotalSeqB", "CD4_TotalSeqB", "CD19_TotalSeqB"]
    fids = ids + ["CD3", "CD4", "CD19"]
    types = ["Gene Expression"] * len(symbols) + ["Antibody Capture"] * N_ADT
    with h5py.File(path, "w") as f:
        m = f.create_group("matrix")
        m.create_dataset("barcodes", data=np.array(barcodes, dtype="S"))
        m.create_dataset("data", data=csc.data.astype(np.int32))
        m.create_dataset("indices", data=csc.indices.astype(np.int64))
        m.create_dataset("indptr", data=csc.indptr.astype(np.int64))
        m.create_dataset("shape", data=np.array(csc.shape, dtype=np.int32))
        feat = m.create_group("features")
        feat.create_dataset("id", data=np.array(fids, dtype="S"))
        feat.create_dataset("name", data=np.array(names, dtype="S"))
        feat.create_dataset("feature_type", data=np.array(types, dtype="S"))
        feat.create_dataset("genome", data=np.array(["GRCh38"] * len(names), dtype="S"))
    return names, fids, types


def write_h5_v2(path, counts, symbols, ids, barcodes):
    csc = sp.csc_matrix(counts.T)
    with h5py.File(path, "w") as f:
        g = f.create_group("GRCh38")
        g.create_dataset("barcodes", data=np.array(barcodes, dtype="S"))
        g.create_dataset("data", data=csc.data.astype(np.int32))
        g.create_dataset("indices", data=csc.indices.astype(np.int64))
        g.create_dataset("indptr", data=csc.indptr.astype(np.int64))
        g.create_dataset("shape", data=np.array(csc.shape, dtype=np.int32))
        g.create_dataset("genes", data=np.array(ids, dtype="S"))
        g.create_dataset("gene_names", data=np.array(symbols, dtype="S"))


def write_mtx(folder, matrix, rows_tsv, barcodes, compress):
    os.makedirs(folder, exist_ok=True)
    opener = (lambda p: gzip.open(p + ".gz", "wt")) if compress else (lambda p: open(p, "w"))
    mtx_path = os.path.join(folder, "matrix.mtx")
    scipy.io.mmwrite(mtx_path, sp.coo_matrix(matrix.T), field="integer")
    if compress:
        with open(mtx_path, "rb") as src, gzip.open(mtx_path + ".gz", "wb") as dst:
            dst.write(src.read())
        os.remove(mtx_path)
    with opener(os.path.join(folder, "barcodes.tsv")) as f:
        f.write("".join(b + "\n" for b in barcodes))
    name = "features.tsv" if len(rows_tsv[0]) == 3 else "genes.tsv"
    with opener(os.path.join(folder, name)) as f:
        f.write("".join("\t".join(r) + "\n" for r in rows_tsv))


def main():
    os.makedirs(OUT, exist_ok=True)
    counts, symbols, ids, barcodes = load()
    adt = np.random.default_rng(7).poisson(20, size=(N_CELLS, N_ADT))
    unique = list(make_index_unique(pd.Index(symbols)))
    base = {"n_obs": N_CELLS, "n_vars": N_GENES, "nnz": int(np.count_nonzero(counts)),
            "x_sum": float(counts.sum()), "row_sums": [float(v) for v in counts.sum(axis=1)[:3]],
            "first_cell": barcodes[0], "last_cell": barcodes[-1], "var_names": unique,
            "first_gene_id": ids[0], "last_gene_id": ids[-1], "n_duplicated": 1}
    exp = {}
    names, fids, types = write_h5_v3(os.path.join(OUT, "tenx_v3.h5"), counts, adt, symbols, ids, barcodes)
    exp["tenx_v3.h5"] = dict(base, x_dtype="int32")
    write_h5_v2(os.path.join(OUT, "tenx_v2.h5"), counts, symbols, ids, barcodes)
    exp["tenx_v2.h5"] = dict(base, x_dtype="int32")
    write_mtx(os.path.join(OUT, "mtx_v3"), np.hstack([counts, adt]), list(zip(fids, names, types)), barcodes, True)
    exp["mtx_v3"] = dict(base, x_dtype="float32")
    write_mtx(os.path.join(OUT, "mtx_v2"), counts, list(zip(ids, symbols)), barcodes, False)
    exp["mtx_v2"] = dict(base, x_dtype="float32")
    # Dense tables: cells as rows with barcodes; genes (Ensembl IDs) as rows, R-style header
    # without the corner field; and anonymous names where only the shape can decide.
    pd.DataFrame(counts, index=barcodes, columns=unique).to_csv(os.path.join(OUT, "cells_by_genes.csv"))
    with gzip.open(os.path.join(OUT, "genes_by_cells.tsv.gz"), "wt") as f:
        f.write("\t".join(barcodes) + "\n")
        for j in range(N_GENES):
            f.write(ids[j] + "\t" + "\t".join(str(v) for v in counts[:, j]) + "\n")
    anon_cells = ["cell%d" % i for i in range(N_CELLS)]
    anon_genes = ["g%d" % j for j in range(N_GENES)]
    pd.DataFrame(counts, index=anon_cells, columns=anon_genes).to_csv(os.path.join(OUT, "anonymous.txt"), sep=" ")
    exp["cells_by_genes.csv"] = dict(base, x_dtype="float32", var_names=unique, n_duplicated=0)
    exp["genes_by_cells.tsv.gz"] = dict(base, x_dtype="float32", var_names=ids, n_duplicated=0)
    exp["anonymous.txt"] = dict(base, x_dtype="float32", var_names=anon_genes, first_cell="cell0",
                                last_cell="cell%d" % (N_CELLS - 1), n_duplicated=0)
    for k in ("cells_by_genes.csv", "genes_by_cells.tsv.gz", "anonymous.txt"):
        del exp[k]["first_gene_id"], exp[k]["last_gene_id"]
    exp["tenx_v3.h5"]["all_features"] = {"n_vars": N_GENES + N_ADT, "x_sum": float(counts.sum() + adt.sum())}
    exp["mtx_v3"]["all_features"] = exp["tenx_v3.h5"]["all_features"]
    with open(os.path.join(OUT, "expectations.json"), "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)
    print("wrote", len(exp), "fixtures to", OUT)


if __name__ == "__main__":
    main()
