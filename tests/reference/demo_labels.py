#!/usr/bin/python3
"""The bundled demo's true labels, read with anndata, for the demo's end-to-end test.

Writes tests/data/app/pbmc_small_labels.csv (cell, cell_type): the independent truth that the
demo's predictions.csv and metrics.json are checked against.
Run from the repository root: /usr/bin/python3 tests/reference/demo_labels.py
"""
import anndata

adata = anndata.read_h5ad("resources/demo/seurat_pbmc_small_80.h5ad")
with open("tests/data/app/pbmc_small_labels.csv", "w") as out:
    out.write("cell,cell_type\n")
    for cell, label in zip(adata.obs_names, adata.obs["cell_type"].astype(str)):
        out.write(f"{cell},{label}\n")
