#!/usr/bin/python3
"""The anndata side of bench/io/run_io_bench.sh: one measurement per process.
    anndata_bench.py read FILE | write IN OUT [gzip] | backed FILE CHUNK
Prints JSON with seconds and peak_rss_mb (ru_maxrss of this process)."""
import json
import resource
import sys
import time

import anndata
import numpy as np


def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def main():
    mode = sys.argv[1]
    c0 = cpu()
    out = {"tool": "anndata " + anndata.__version__, "mode": mode}
    if mode == "read":
        t = time.perf_counter()
        a = anndata.read_h5ad(sys.argv[2])
        out["seconds"] = time.perf_counter() - t
        out["nnz"] = int(a.X.nnz)
    elif mode == "write":
        a = anndata.read_h5ad(sys.argv[2])
        c0 = cpu()
        t = time.perf_counter()
        a.write_h5ad(sys.argv[3], compression=sys.argv[4] if len(sys.argv) > 4 else None)
        out["seconds"] = time.perf_counter() - t
    elif mode == "backed":
        chunk = int(sys.argv[3])
        t = time.perf_counter()
        a = anndata.read_h5ad(sys.argv[2], backed="r")
        total = 0.0
        for start in range(0, a.n_obs, chunk):
            total += float(a.X[start:start + chunk].sum(dtype=np.float64))
        out["seconds"] = time.perf_counter() - t
        out["sum"] = total
    out["cpu_seconds"] = cpu() - c0
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
