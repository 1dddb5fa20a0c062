#!/usr/bin/python3
"""Makes tests/data/io/malformed/: broken inputs a biologist may bring, each with the words
its one-line error (or warning) must contain, in expectations.json. Built from the small
layout fixture csr_float32_int32.h5ad (20 cells x 30 genes) and the 10x fixtures.
Run after make_io_fixtures.py and make_tenx_fixtures.py:
    /usr/bin/python3 tests/reference/make_malformed_fixtures.py
"""
import json
import os
import shutil

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data", "io")
OUT = os.path.join(DATA, "malformed")
GOOD = os.path.join(DATA, "formats", "csr_float32_int32.h5ad")
MTX = os.path.join(DATA, "tenx", "mtx_v2")


def copy_and_edit(name, edit):
    path = os.path.join(OUT, name)
    shutil.copy(GOOD, path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return name


def replace(f, path, data):
    attrs = dict(f[path].attrs)
    del f[path]
    f.create_dataset(path, data=data)
    for k, v in attrs.items():
        f[path].attrs[k] = v


def mtx_variant(name, edit_lines=None, drop=None):
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(MTX, folder)
    if drop:
        os.remove(os.path.join(folder, drop))
    if edit_lines:
        path = os.path.join(folder, "matrix.mtx")
        lines = open(path).read().splitlines()
        with open(path, "w") as f:
            f.write("\n".join(edit_lines(lines)) + "\n")
    return name


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    exp = {}
    with open(os.path.join(OUT, "not_hdf5.h5ad"), "w") as f:
        f.write("cell,gene,count\nthis is a spreadsheet renamed to .h5ad\n")
    exp["not_hdf5.h5ad"] = {"error": "not a format"}
    raw = open(GOOD, "rb").read()
    with open(os.path.join(OUT, "truncated.h5ad"), "wb") as f:
        f.write(raw[: len(raw) // 2])
    exp["truncated.h5ad"] = {"error": "truncated"}
    corrupted = bytearray(raw)
    # Overwrite object headers and B-tree nodes after the superblock with noise.
    rng = np.random.default_rng(3)
    corrupted[96:4096] = rng.integers(0, 256, 4096 - 96, dtype=np.uint8).tobytes()
    with open(os.path.join(OUT, "corrupted.h5ad"), "wb") as f:
        f.write(bytes(corrupted))
    exp["corrupted.h5ad"] = {"error": ""}
    with open(os.path.join(OUT, "empty.h5ad"), "wb") as f:
        pass
    exp["empty.h5ad"] = {"error": "not a format"}

    def bad_indptr(f):
        p = f["X/indptr"][:]
        p[5], p[6] = p[6], p[5]
        replace(f, "X/indptr", p)
    exp[copy_and_edit("bad_indptr.h5ad", bad_indptr)] = {"error": "indptr decreases"}

    def indptr_beyond(f):
        p = f["X/indptr"][:]
        p[-1] += 100
        replace(f, "X/indptr", p)
    exp[copy_and_edit("indptr_beyond_data.h5ad", indptr_beyond)] = {"error": "indptr ends at"}

    def index_out_of_range(f):
        i = f["X/indices"][:]
        i[3] = 30
        replace(f, "X/indices", i)
    exp[copy_and_edit("index_out_of_range.h5ad", index_out_of_range)] = {"error": "column index 30"}

    def short_indptr(f):
        replace(f, "X/indptr", f["X/indptr"][:-3])
    exp[copy_and_edit("short_indptr.h5ad", short_indptr)] = {"error": "indptr has"}

    def data_shorter(f):
        replace(f, "X/data", f["X/data"][:-4])
    exp[copy_and_edit("data_shorter_than_indices.h5ad", data_shorter)] = {"error": "lengths differ"}

    def obs_short(f):
        replace(f, "obs/_index", f["obs/_index"][:-1])
        replace(f, "obs/cell_type/codes", f["obs/cell_type/codes"][:-1])
    exp[copy_and_edit("inconsistent_shapes.h5ad", obs_short)] = {"error": "inconsistent shapes"}

    def column_length(f):
        replace(f, "obs/cell_type/codes", f["obs/cell_type/codes"][:-2])
    exp[copy_and_edit("column_too_short.h5ad", column_length)] = {"error": "rows but the table has"}

    def bad_codes(f):
        c = f["obs/cell_type/codes"][:]
        c[0] = 7
        replace(f, "obs/cell_type/codes", c)
    exp[copy_and_edit("bad_category_codes.h5ad", bad_codes)] = {"error": "category code 7"}

    def nan_values(f):
        d = f["X/data"][:]
        d[2] = np.nan
        d[9] = np.inf
        replace(f, "X/data", d)
    exp[copy_and_edit("nan_values.h5ad", nan_values)] = {"error": "NaN or infinite"}

    def negative(f):
        d = f["X/data"][:]
        d[0] = -3
        replace(f, "X/data", d)
    exp[copy_and_edit("negative_values.h5ad", negative)] = {"warning": "no matrix holds raw integer counts"}

    def non_integer(f):
        replace(f, "X/data", f["X/data"][:] + np.float32(0.5))
    exp[copy_and_edit("non_integer_counts.h5ad", non_integer)] = {"warning": "no matrix holds raw integer counts"}

    def duplicated(f):
        idx = f["obs/_index"][:]
        idx[4] = idx[3]
        replace(f, "obs/_index", idx)
    exp[copy_and_edit("duplicated_cell_names.h5ad", duplicated)] = {"warning": "duplicated cell names were made unique"}

    def unknown_encoding(f):
        f["X"].attrs["encoding-type"] = "awkward-array"
    exp[copy_and_edit("unknown_encoding.h5ad", unknown_encoding)] = {"error": "unknown encoding 'awkward-array'"}

    def string_matrix(f):
        del f["X"]
        f.create_dataset("X", data=np.array([["a"] * 30] * 20, dtype="S1"))
    exp[copy_and_edit("text_matrix.h5ad", string_matrix)] = {"error": "not numbers"}

    def missing_indices(f):
        del f["X/indices"]
    exp[copy_and_edit("missing_indices.h5ad", missing_indices)] = {"error": "has no 'indices'"}

    def column_order_lies(f):
        f["obs"].attrs["column-order"] = np.array(["cell_type", "ghost"], dtype=object)
    exp[copy_and_edit("missing_column.h5ad", column_order_lies)] = {"error": "lists a column 'ghost'"}

    exp[mtx_variant("mtx_missing_barcodes", drop="barcodes.tsv")] = {"error": "no barcodes.tsv"}

    def truncate(lines):
        return lines[: len(lines) // 2]
    exp[mtx_variant("mtx_truncated", truncate)] = {"error": "truncated"}

    def negative_mtx(lines):
        body = [l for l in lines if not l.startswith("%")]
        i = lines.index(body[1])
        r, c, v = lines[i].split()
        lines[i] = "%s %s -%s" % (r, c, v)
        return lines
    exp[mtx_variant("mtx_negative", negative_mtx)] = {"error": "negative counts"}

    def fractional_mtx(lines):
        body_start = [i for i, l in enumerate(lines) if not l.startswith("%")][1]
        for i in range(body_start, body_start + 5):
            r, c, v = lines[i].split()
            lines[i] = "%s %s %s.5" % (r, c, v)
        return lines
    exp[mtx_variant("mtx_non_integer", fractional_mtx)] = {"warning": "not whole numbers"}

    def out_of_range(lines):
        i = [i for i, l in enumerate(lines) if not l.startswith("%")][2]
        r, c, v = lines[i].split()
        lines[i] = "%s 999 %s" % (r, v)
        return lines
    exp[mtx_variant("mtx_out_of_range", out_of_range)] = {"error": "points outside"}

    with open(os.path.join(OUT, "ragged.csv"), "w") as f:
        f.write(",g1,g2,g3\nc1,1,2,3\nc2,4,5\n")
    exp["ragged.csv"] = {"error": "inconsistent table"}
    with open(os.path.join(OUT, "words_in_numbers.csv"), "w") as f:
        f.write(",g1,g2\nc1,1,two\n")
    exp["words_in_numbers.csv"] = {"error": "'two' is not a number"}
    with open(os.path.join(OUT, "nan_in_table.tsv"), "w") as f:
        f.write("\tg1\tg2\nc1\t1\tnan\n")
    exp["nan_in_table.tsv"] = {"error": "NaN or infinite"}

    tenx = os.path.join(OUT, "tenx_wrong_barcodes.h5")
    shutil.copy(os.path.join(DATA, "tenx", "tenx_v3.h5"), tenx)
    with h5py.File(tenx, "r+") as f:
        b = f["matrix/barcodes"][:-1]
        del f["matrix/barcodes"]
        f.create_dataset("matrix/barcodes", data=b)
    exp["tenx_wrong_barcodes.h5"] = {"error": "do not match the matrix shape"}

    with open(os.path.join(OUT, "expectations.json"), "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)
    print("wrote", len(exp), "malformed fixtures")


if __name__ == "__main__":
    main()
