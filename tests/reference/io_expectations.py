#!/usr/bin/python3
"""Writes tests/data/io/shared_expectations.json: what anndata reports for every file in
../shared/data (shape, nnz, names, columns, category counts, sums). The gtest compares our
reader against it. Run with Debian's python3 (anndata 0.8):
    /usr/bin/python3 tests/reference/io_expectations.py
"""
import glob
import json
import os

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, "..", "shared", "data")
OUT = os.path.join(ROOT, "tests", "data", "io", "shared_expectations.json")


def kind(series):
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(series.dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(series.dtype):
        return "numeric"
    return "string"


def frame(df):
    cols = {}
    for name in df.columns:
        s = df[name]
        k = kind(s)
        entry = {"kind": k}
        if k == "categorical":
            cats = [str(c) for c in s.cat.categories]
            counts = [int(v) for v in s.value_counts(sort=False).reindex(s.cat.categories).values]
            entry["n_categories"] = len(cats)
            entry["n_missing"] = int(s.isna().sum())
            if len(cats) <= 50:
                entry["categories"] = cats
                entry["counts"] = counts
            else:  # large vocabularies (barcodes, symbols): ends only, keeps the fixture small
                entry["first_category"], entry["last_category"] = cats[0], cats[-1]
                entry["first_value"] = str(s.values[0])
                entry["last_value"] = str(s.values[-1])
        elif k == "numeric":
            entry["sum"] = float(np.nansum(s.values.astype(np.float64)))
            entry["first"] = float(s.values[0])
        elif k == "bool":
            entry["n_true"] = int(s.values.sum())
        else:
            entry["first"] = str(s.values[0])
            entry["last"] = str(s.values[-1])
        cols[name] = entry
    return {
        "n": int(df.shape[0]),
        "first": str(df.index[0]),
        "last": str(df.index[-1]),
        "columns": list(map(str, df.columns)),
        "column_info": cols,
    }


def main():
    result = {}
    for path in sorted(glob.glob(os.path.join(SHARED, "*.h5ad"))):
        a = anndata.read_h5ad(path)
        X = a.X
        x = sp.csr_matrix(X)
        entry = {
            "n_obs": int(a.n_obs),
            "n_vars": int(a.n_vars),
            "nnz": int(X.nnz) if sp.issparse(X) else int(np.count_nonzero(X)),
            "x_dtype": str(X.dtype),
            "x_sum": float(x.sum(dtype=np.float64)),
            "row0_sum": float(x[0].sum(dtype=np.float64)),
            "last_row_sum": float(x[a.n_obs - 1].sum(dtype=np.float64)),
            "col0_sum": float(x[:, 0].sum(dtype=np.float64)),
            "obs": frame(a.obs),
            "var": frame(a.var),
            "obsm": {k: list(map(int, v.shape)) for k, v in a.obsm.items()},
            "layers": sorted(a.layers.keys()),
            "uns_keys": sorted(a.uns.keys()),
        }
        result[os.path.basename(path)] = entry
    with open(OUT, "w") as f:
        json.dump(result, f, indent=0, sort_keys=True)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
