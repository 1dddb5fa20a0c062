#!/usr/bin/python3
"""The same steps as bench_pipeline.cpp with numpy/scipy/pandas, following scanpy's code
path (normalize_total, log1p, highly_variable_genes flavor='seurat'). Reading is not timed.
Usage: preprocess_numpy.py COUNTS.h5ad"""
import sys
import time
from pathlib import Path

import anndata
import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "reference"))
from hvg_reference import single_batch  # noqa: E402  (scanpy's algorithm, pandas binning)

adata = anndata.read_h5ad(sys.argv[1])
counts = sp.csr_matrix(adata.X, dtype=np.float32)
start = time.perf_counter()
cpu_start = time.process_time()
x = counts.copy()
totals = np.asarray(x.sum(axis=1)).ravel()
x = sp.diags(np.divide(1e4, totals, out=np.zeros_like(totals), where=totals > 0)) @ x
x.data = np.log1p(x.data)
hvg = single_batch(sp.csr_matrix(x), "seurat", 2000)
seconds = time.perf_counter() - start
cpu = time.process_time() - cpu_start
print(f"numpy/scipy: normalise+log1p+seurat HVG {seconds:.3f} s wall, {cpu:.3f} s CPU "
      f"({int(hvg['highly_variable'].sum())} HVGs)")
