#!/usr/bin/python3
"""Makes the small h5ad layout fixtures under tests/data/io/formats/ with h5py, following
anndata's published on-disk format spec (including encodings anndata 0.8 cannot write:
nullable-integer, nullable-boolean, categoricals with missing codes, Ensembl-ID index), and
tests/data/io/formats/expectations.json computed from the arrays written (not from any
reader). Run: /usr/bin/python3 tests/reference/make_io_fixtures.py
"""
import json
import os

import h5py
import numpy as np
import scipy.sparse as sp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, "..", "shared", "data", "seurat_pbmc_small_80.h5ad")
OUT = os.path.join(ROOT, "tests", "data", "io", "formats")
STR = h5py.string_dtype("utf-8")

N_OBS, N_VARS = 20, 30


def base_counts():
    with h5py.File(SHARED, "r") as f:
        g = f["X"]
        x = sp.csr_matrix((g["data"][:], g["indices"][:], g["indptr"][:]), shape=tuple(g.attrs["shape"]))
        cells = [s.decode() for s in f["obs/_index"][:N_OBS]]
        genes = [s.decode() for s in f["var/_index"][:]]
    # The 30 genes with most counts in the first 20 cells, in file order.
    sub = x[:N_OBS]
    top = np.sort(np.argsort(-np.asarray(sub.sum(axis=0)).ravel(), kind="stable")[:N_VARS])
    return sub[:, top].toarray(), cells, [genes[i] for i in top]


def enc(obj, kind, version="0.2.0"):
    obj.attrs["encoding-type"] = kind
    obj.attrs["encoding-version"] = version


def write_strings(group, name, values, kind="string-array"):
    ds = group.create_dataset(name, data=np.array(values, dtype=object), dtype=STR)
    if kind:
        enc(ds, kind)
    return ds


def write_csr(group, name, m, data_dtype=np.float32, index_dtype=np.int32, csc=False):
    m = sp.csc_matrix(m) if csc else sp.csr_matrix(m)
    g = group.create_group(name)
    enc(g, "csc_matrix" if csc else "csr_matrix", "0.1.0")
    g.attrs["shape"] = np.array(m.shape, dtype=np.int64)
    g.create_dataset("data", data=m.data.astype(data_dtype))
    g.create_dataset("indices", data=m.indices.astype(index_dtype))
    g.create_dataset("indptr", data=m.indptr.astype(np.int64))
    return g


def write_frame(f, name, index, columns):
    g = f.create_group(name)
    enc(g, "dataframe")
    g.attrs["_index"] = "_index"
    g.attrs["column-order"] = np.array(list(columns.keys()), dtype=object) if columns else np.array([], dtype=float)
    write_strings(g, "_index", index)
    for col, writer in columns.items():
        writer(g, col)
    return g


def categorical(codes, categories, ordered=False):
    def w(g, col):
        c = g.create_group(col)
        enc(c, "categorical")
        c.attrs["ordered"] = ordered
        write_strings(c, "categories", categories)
        ds = c.create_dataset("codes", data=np.asarray(codes, dtype=np.int8))
        enc(ds, "array")
    return w


def array(values, dtype):
    def w(g, col):
        enc(g.create_dataset(col, data=np.asarray(values, dtype=dtype)), "array")
    return w


def strings(values):
    return lambda g, col: write_strings(g, col, values)


def nullable(kind, values, mask):
    def w(g, col):
        c = g.create_group(col)
        enc(c, kind, "0.1.0")
        c.create_dataset("values", data=values)
        c.create_dataset("mask", data=np.asarray(mask, dtype=bool))
    return w


def empty_dicts(f, names):
    for n in names:
        enc(f.create_group(n), "dict", "0.1.0")


def expectation(x, cells, genes, x_dtype, **extra):
    nnz = int(np.count_nonzero(x))
    e = {"n_obs": len(cells), "n_vars": len(genes), "nnz": nnz, "x_dtype": x_dtype,
         "x_sum": float(np.asarray(x, dtype=np.float64).sum()), "first_cell": cells[0], "last_cell": cells[-1],
         "first_gene": genes[0], "last_gene": genes[-1]}
    e.update(extra)
    return e


def main():
    os.makedirs(OUT, exist_ok=True)
    x, cells, genes = base_counts()
    rng = np.random.default_rng(0)
    types = ["B", "T", "NK"]
    type_codes = rng.integers(0, 3, N_OBS)
    expectations = {}

    def standard(f, xwriter, x_dtype, name):
        enc(f, "anndata", "0.1.0")
        xwriter(f)
        write_frame(f, "obs", cells, {"cell_type": categorical(type_codes, types)})
        write_frame(f, "var", genes, {})
        empty_dicts(f, ["obsm", "obsp", "varm", "varp", "layers", "uns"])
        expectations[name] = expectation(x, cells, genes, x_dtype, obs={
            "cell_type": {"kind": "categorical", "categories": types,
                          "counts": [int((type_codes == i).sum()) for i in range(3)]}})

    # X layouts and dtypes.
    variants = {
        "csr_float32_int32.h5ad": (lambda f: write_csr(f, "X", x, np.float32, np.int32), "float32"),
        "csc_float64_int64.h5ad": (lambda f: write_csr(f, "X", x, np.float64, np.int64, csc=True), "float64"),
        "csr_int64_int64.h5ad": (lambda f: write_csr(f, "X", x, np.int64, np.int64), "int64"),
        "csr_uint16_int32.h5ad": (lambda f: write_csr(f, "X", x, np.uint16, np.int32), "uint16"),
        "csr_int32_int32.h5ad": (lambda f: write_csr(f, "X", x, np.int32, np.int32), "int32"),
        "dense_float32.h5ad": (lambda f: enc(f.create_dataset("X", data=x.astype(np.float32)), "array"), "float32"),
        "dense_int32.h5ad": (lambda f: enc(f.create_dataset("X", data=x.astype(np.int32)), "array"), "int32"),
    }
    for name, (writer, dtype) in variants.items():
        with h5py.File(os.path.join(OUT, name), "w") as f:
            standard(f, writer, dtype, name)

    # Legacy (anndata 0.6/0.7 era): h5sparse attributes, no encoding attrs, categories in
    # obs/__categories/<col> and in uns/<col>_categories.
    name = "legacy_h5sparse.h5ad"
    with h5py.File(os.path.join(OUT, name), "w") as f:
        m = sp.csr_matrix(x.astype(np.float32))
        g = f.create_group("X")
        g.attrs["h5sparse_format"] = "csr"
        g.attrs["h5sparse_shape"] = np.array(m.shape)
        g.create_dataset("data", data=m.data)
        g.create_dataset("indices", data=m.indices)
        g.create_dataset("indptr", data=m.indptr)
        obs = f.create_group("obs")
        obs.attrs["_index"] = "index"
        obs.attrs["column-order"] = np.array(["cell_type", "phase"], dtype=object)
        obs.create_dataset("index", data=np.array(cells, dtype="S"))
        obs.create_dataset("cell_type", data=type_codes.astype(np.int8))
        cats = obs.create_group("__categories")
        cats.create_dataset("cell_type", data=np.array(types, dtype=object), dtype=STR)
        phase_codes = (np.arange(N_OBS) % 2).astype(np.int8)
        obs.create_dataset("phase", data=phase_codes)
        var = f.create_group("var")
        var.attrs["_index"] = "index"
        var.attrs["column-order"] = np.array([], dtype=float)
        var.create_dataset("index", data=np.array(genes, dtype="S"))
        uns = f.create_group("uns")
        uns.create_dataset("phase_categories", data=np.array(["G1", "S"], dtype=object), dtype=STR)
    expectations[name] = expectation(x, cells, genes, "float32", obs={
        "cell_type": {"kind": "categorical", "categories": types,
                      "counts": [int((type_codes == i).sum()) for i in range(3)]},
        "phase": {"kind": "categorical", "categories": ["G1", "S"], "counts": [10, 10]}})

    # anndata 0.6: obs/var are record arrays (one compound dataset, fixed-width byte strings,
    # an 'index' field), categoricals as codes with uns/<col>_categories, X dense.
    name = "legacy_records.h5ad"
    with h5py.File(os.path.join(OUT, name), "w") as f:
        f.create_dataset("X", data=x.astype(np.float32))
        width = max(len(c) for c in cells)
        obs = np.zeros(N_OBS, dtype=[("index", "S%d" % width), ("cell_type", np.int8),
                                     ("n_counts", np.float32), ("is_b", np.bool_), ("note", "S8")])
        obs["index"] = [c.encode() for c in cells]
        obs["cell_type"] = type_codes
        obs["n_counts"] = x.sum(axis=1)
        obs["is_b"] = type_codes == 0
        obs["note"] = [("n%d" % i).encode() for i in range(N_OBS)]
        f.create_dataset("obs", data=obs)
        var = np.zeros(N_VARS, dtype=[("index", "S%d" % max(len(g) for g in genes)), ("n_cells", np.int64)])
        var["index"] = [g.encode() for g in genes]
        var["n_cells"] = np.count_nonzero(x, axis=0)
        f.create_dataset("var", data=var)
        uns = f.create_group("uns")
        uns.create_dataset("cell_type_categories", data=np.array(types, dtype="S"))
    expectations[name] = expectation(x, cells, genes, "float32", obs={
        "cell_type": {"kind": "categorical", "categories": types,
                      "counts": [int((type_codes == i).sum()) for i in range(3)]},
        "n_counts": {"kind": "numeric", "sum": float(x.sum()), "first": float(x[0].sum())},
        "is_b": {"kind": "bool", "n_true": int((type_codes == 0).sum())},
        "note": {"kind": "string", "first": "n0", "last": "n%d" % (N_OBS - 1)}})

    # anndata >= 0.10 / CELLxGENE: nullable columns, missing categorical codes, Ensembl index
    # with symbols in var['feature_name'], plus every slot: obsm, obsp, layers, raw, nested uns.
    name = "cellxgene_style.h5ad"
    ensembl = ["ENSG%011d" % (1000 + i) for i in range(N_VARS)]
    codes_missing = type_codes.copy()
    codes_missing[[1, 5]] = -1
    n_genes_values = np.count_nonzero(x, axis=1).astype(np.int64)
    n_genes_mask = np.zeros(N_OBS, dtype=bool)
    n_genes_mask[3] = True
    flag_values = (np.arange(N_OBS) % 3 == 0)
    flag_mask = np.zeros(N_OBS, dtype=bool)
    flag_mask[[2, 4]] = True
    umap = rng.normal(size=(N_OBS, 2))
    pca = rng.normal(size=(N_OBS, 5)).astype(np.float32)
    conn = sp.random(N_OBS, N_OBS, density=0.2, random_state=1, format="csr", dtype=np.float32)
    paga = sp.csr_matrix(np.array([[0, 0.5, 0.1], [0.5, 0, 0.2], [0.1, 0.2, 0]]))
    norm = x / np.maximum(x.sum(axis=1, keepdims=True), 1) * 1e4
    lognorm = np.log1p(norm).astype(np.float32)
    with h5py.File(os.path.join(OUT, name), "w") as f:
        enc(f, "anndata", "0.1.0")
        write_csr(f, "X", lognorm)
        write_frame(f, "obs", cells, {
            "cell_type": categorical(codes_missing, types),
            "n_genes": nullable("nullable-integer", n_genes_values, n_genes_mask),
            "is_doublet": nullable("nullable-boolean", flag_values, flag_mask),
            "donor": strings(["d%d" % (i % 4) for i in range(N_OBS)]),
            "qc_pass": lambda g, col: enc(g.create_dataset(col, data=flag_values), "array"),
            "score": array(np.linspace(0, 1, N_OBS), np.float32),
        })
        symbols = genes[:]
        write_frame(f, "var", ensembl, {
            "feature_name": categorical(np.arange(N_VARS), symbols) if len(set(symbols)) == N_VARS else None,
            "highly_variable": lambda g, col: enc(g.create_dataset(col, data=np.arange(N_VARS) < 10), "array"),
        })
        for key, value in (("obsm", {"X_umap": umap, "X_pca": pca}),):
            g = f.create_group(key)
            enc(g, "dict", "0.1.0")
            for k, v in value.items():
                enc(g.create_dataset(k, data=v), "array")
        g = f.create_group("obsp")
        enc(g, "dict", "0.1.0")
        write_csr(g, "connectivities", conn)
        g = f.create_group("layers")
        enc(g, "dict", "0.1.0")
        write_csr(g, "counts", x.astype(np.float32))
        raw = f.create_group("raw")
        enc(raw, "raw", "0.1.0")
        write_csr(raw, "X", x.astype(np.float32))
        write_frame(raw, "var", ensembl, {})
        empty_dicts(f, ["varm", "varp"])
        uns = f.create_group("uns")
        enc(uns, "dict", "0.1.0")
        write_strings(uns, "cell_type_colors", ["#1f77b4", "#ff7f0e", "#2ca02c"], "string-array")
        p = uns.create_group("paga")
        enc(p, "dict", "0.1.0")
        write_csr(p, "connectivities", paga, np.float64)
        write_strings(p, "groups", "cell_type", None).attrs["encoding-type"] = "string"
        n = uns.create_group("neighbors")
        enc(n, "dict", "0.1.0")
        pp = n.create_group("params")
        enc(pp, "dict", "0.1.0")
        enc(pp.create_dataset("n_neighbors", data=np.int64(15)), "numeric-scalar")
        enc(pp.create_dataset("method", data="umap", dtype=STR), "string")
        enc(pp.create_dataset("random_state", data=np.float64(0.5)), "numeric-scalar")
    expectations[name] = {
        "n_obs": N_OBS, "n_vars": N_VARS, "nnz": int(np.count_nonzero(lognorm)), "x_dtype": "float32",
        "x_sum": float(lognorm.astype(np.float64).sum()), "first_cell": cells[0], "last_cell": cells[-1],
        "first_gene": ensembl[0], "last_gene": ensembl[-1], "counts_source": "layers/counts",
        "counts_sum": float(x.sum()),
        "obs": {
            "cell_type": {"kind": "categorical", "categories": types, "n_missing": 2,
                          "counts": [int((codes_missing == i).sum()) for i in range(3)]},
            "n_genes": {"kind": "numeric", "n_missing": 1,
                        "sum": float(n_genes_values[~n_genes_mask].sum())},
            "is_doublet": {"kind": "bool", "n_missing": 2, "n_true": int(flag_values[~flag_mask].sum())},
            "donor": {"kind": "string", "first": "d0", "last": "d%d" % ((N_OBS - 1) % 4)},
            "qc_pass": {"kind": "bool", "n_missing": 0, "n_true": int(flag_values.sum())},
            "score": {"kind": "numeric", "n_missing": 0, "sum": float(np.linspace(0, 1, N_OBS, dtype=np.float32).astype(np.float64).sum())},
        },
        "var_feature_name_first": genes[0],
        "obsm": {"X_umap": [N_OBS, 2], "X_pca": [N_OBS, 5]},
        "obsm_X_umap_00": float(umap[0, 0]),
        "obsp_connectivities_nnz": int(conn.nnz),
        "raw_shape": [N_OBS, N_VARS],
        "uns_colors": ["#1f77b4", "#ff7f0e", "#2ca02c"],
        "uns_paga_01": 0.5,
        "uns_n_neighbors": 15,
        "uns_method": "umap",
    }
    with open(os.path.join(OUT, "expectations.json"), "w") as f:
        json.dump(expectations, f, indent=1, sort_keys=True)
    print("wrote", len(expectations), "fixtures to", OUT)


if __name__ == "__main__":
    main()
