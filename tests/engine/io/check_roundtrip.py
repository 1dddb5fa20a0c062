#!/usr/bin/python3
"""Checks an h5ad written by Cellwright with Debian's anndata 0.8.

    check_roundtrip.py ORIGINAL.h5ad WRITTEN.h5ad
        anndata reads both; matrix, names, columns, obsm, obsp, layers, raw and uns must agree.
    check_roundtrip.py --fixture EXPECTATIONS.json KEY WRITTEN.h5ad
        for originals anndata 0.8 cannot read (newer encodings): compare with the fixture's
        independent expectations.
Prints one line; exit 0 when everything agrees.
"""
import json
import sys
from collections.abc import Mapping

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp


def fail(msg):
    print("MISMATCH: " + msg)
    sys.exit(1)


def same_matrix(a, b, what):
    a = sp.csr_matrix(a)
    b = sp.csr_matrix(b)
    if a.shape != b.shape:
        fail(f"{what} shape {a.shape} vs {b.shape}")
    if abs(a - b).max() > 1e-6 * max(1.0, abs(a).max()):
        fail(f"{what} values differ")


def same_frame(a, b, what):
    if list(a.index) != list(b.index):
        fail(f"{what} index differs")
    if list(a.columns) != list(b.columns):
        fail(f"{what} columns {list(a.columns)} vs {list(b.columns)}")
    for c in a.columns:
        x, y = a[c], b[c]
        if isinstance(x.dtype, pd.CategoricalDtype):
            if not isinstance(y.dtype, pd.CategoricalDtype):
                fail(f"{what}['{c}'] is no longer categorical")
            if list(x.cat.categories) != list(y.cat.categories) or not np.array_equal(x.cat.codes, y.cat.codes):
                fail(f"{what}['{c}'] categories or codes differ")
        elif pd.api.types.is_numeric_dtype(x.dtype) and not pd.api.types.is_bool_dtype(x.dtype):
            if not np.allclose(x.values.astype(float), y.values.astype(float), equal_nan=True):
                fail(f"{what}['{c}'] values differ")
        elif list(x.values) != list(y.values):
            fail(f"{what}['{c}'] values differ")


def same_uns(a, b, path):
    if isinstance(a, Mapping):
        if not isinstance(b, Mapping) or sorted(a.keys()) != sorted(b.keys()):
            fail(f"uns{path} keys differ")
        for k in a:
            same_uns(a[k], b[k], f"{path}/{k}")
    elif sp.issparse(a):
        same_matrix(a, b, "uns" + path)
    elif isinstance(a, (str, bytes)):
        if str(a) != str(b):
            fail(f"uns{path}: {a!r} vs {b!r}")
    else:
        if not np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True):
            fail(f"uns{path} values differ")


def compare(orig_path, written_path):
    a = anndata.read_h5ad(orig_path)
    b = anndata.read_h5ad(written_path)
    if a.shape != b.shape:
        fail(f"shape {a.shape} vs {b.shape}")
    same_matrix(a.X, b.X, "X")
    if a.X.dtype != b.X.dtype:
        fail(f"X dtype {a.X.dtype} vs {b.X.dtype}")
    same_frame(a.obs, b.obs, "obs")
    same_frame(a.var, b.var, "var")
    for slot in ("obsm", "layers", "obsp"):
        ka, kb = sorted(getattr(a, slot).keys()), sorted(getattr(b, slot).keys())
        if ka != kb:
            fail(f"{slot} keys {ka} vs {kb}")
        for k in ka:
            same_matrix(getattr(a, slot)[k], getattr(b, slot)[k], f"{slot}['{k}']")
    if (a.raw is None) != (b.raw is None):
        fail("raw presence differs")
    if a.raw is not None:
        same_matrix(a.raw.X, b.raw.X, "raw/X")
        same_frame(a.raw.var, b.raw.var, "raw/var")
    same_uns(a.uns, b.uns, "")


def compare_fixture(expectations_path, key, written_path):
    e = json.load(open(expectations_path))[key]
    b = anndata.read_h5ad(written_path)
    if list(b.shape) != [e["n_obs"], e["n_vars"]]:
        fail(f"shape {b.shape}")
    if int(b.X.nnz) != e["nnz"] or abs(float(b.X.sum(dtype=np.float64)) - e["x_sum"]) > 1e-4 * abs(e["x_sum"]):
        fail("X differs")
    if b.obs_names[0] != e["first_cell"] or b.var_names[-1] != e["last_gene"]:
        fail("names differ")
    for col, info in e["obs"].items():
        s = b.obs[col]
        if info["kind"] == "categorical":
            if list(s.cat.categories) != info["categories"] or int(s.isna().sum()) != info["n_missing"]:
                fail(f"obs['{col}'] categorical differs")
        elif info["kind"] == "numeric":
            if abs(float(np.nansum(s.values)) - info["sum"]) > 1e-4 * max(1, abs(info["sum"])):
                fail(f"obs['{col}'] numbers differ")
            if int(s.isna().sum()) != info["n_missing"]:
                fail(f"obs['{col}'] missing values differ")
        elif info["kind"] == "bool":
            n_true = int((s.astype(str) == "True").sum())
            if n_true != info["n_true"] or int(s.isna().sum()) != info["n_missing"]:
                fail(f"obs['{col}'] booleans differ")
        elif s.iloc[0] != info["first"] or s.iloc[-1] != info["last"]:
            fail(f"obs['{col}'] strings differ")
    if abs(float(b.layers["counts"].sum()) - e["counts_sum"]) > 1e-3:
        fail("layers['counts'] differs")
    for k, shape in e["obsm"].items():
        if list(b.obsm[k].shape) != shape:
            fail(f"obsm['{k}'] shape")
    if abs(b.obsm["X_umap"][0, 0] - e["obsm_X_umap_00"]) > 1e-9:
        fail("obsm values differ")
    if b.obsp["connectivities"].nnz != e["obsp_connectivities_nnz"]:
        fail("obsp differs")
    if list(b.uns["cell_type_colors"]) != e["uns_colors"]:
        fail("uns colors differ")
    if not sp.issparse(b.uns["paga"]["connectivities"]) or b.uns["paga"]["connectivities"][0, 1] != e["uns_paga_01"]:
        fail("uns['paga']['connectivities'] differs")
    if b.uns["neighbors"]["params"]["n_neighbors"] != e["uns_n_neighbors"]:
        fail("nested uns differs")
    if b.raw is None or list(b.raw.shape) != e["raw_shape"]:
        fail("raw differs")
    if b.var["feature_name"].iloc[0] != e["var_feature_name_first"]:
        fail("var differs")


if __name__ == "__main__":
    if sys.argv[1] == "--fixture":
        compare_fixture(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        compare(sys.argv[1], sys.argv[2])
    print("OK")
