"""Benchmark: the same samples x features table in six layouts, read whole and read one gene's columns.

The table: ``--samples`` x ``--features`` float64 (default 300 x 100,000, the explain benchmark's
transcript-usage table) with 20% missing values, written (not timed) as
1. wide parquet (one column per feature: the manual's input, what the project read so far);
2. transposed parquet (one row per feature, one column per sample; plain encoding, no dictionary);
3. transposed Feather / Arrow IPC (uncompressed);
4. AnnData ``.h5ad`` (samples as observations, features as variables; dense X);
5. zarr (features x samples, chunks of 1,000 features, no compression);
6. the project's feature-matrix folder (``isograph.dataset.matrix``: a feature-major ``.npy`` read through a
   memory map, plus the IDs).

Timed, interleaved (each round runs every contender once, in a rotated order; the files are in the page
cache after the first round, as for an app that reads a data set again): "whole" = open and read every
value into a float64 array with its sample and feature IDs; "gene" = read 5 features of one gene (how the
gene view reads). Prints the median of ``--rounds`` rounds and the ratio to wide parquet.

Run: ``python bench/feature_formats.py`` (about two minutes on 2 cores; needs anndata and zarr, which the
runtime requirements install).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from isograph.dataset.matrix import open_matrix, write_matrix


def _write_all(table: pd.DataFrame, folder: Path) -> dict[str, Path]:
    import anndata
    import zarr

    paths = {"wide parquet": folder / "wide.parquet", "transposed parquet": folder / "tall.parquet",
             "Feather (transposed)": folder / "tall.feather", "AnnData .h5ad": folder / "table.h5ad",
             "zarr": folder / "table.zarr", "feature matrix (ours)": folder / "table.matrix"}
    table.to_parquet(paths["wide parquet"])
    tall = pa.table({"feature_id": table.columns.to_numpy(dtype=str),
                     **{s: table.loc[s].to_numpy() for s in table.index}})
    pq.write_table(tall, paths["transposed parquet"], use_dictionary=False, compression="none")
    feather.write_feather(tall, paths["Feather (transposed)"], compression="uncompressed")
    # object-dtype IDs: anndata 0.12 cannot write pandas 3's Arrow strings (fixed in 0.13, Python >= 3.12)
    adata = anndata.AnnData(X=table.to_numpy(), obs=pd.DataFrame(index=pd.Index(table.index, dtype=object)),
                            var=pd.DataFrame(index=pd.Index(table.columns, dtype=object)))
    adata.write_h5ad(paths["AnnData .h5ad"])
    group = zarr.open_group(str(paths["zarr"]), mode="w")
    values = np.ascontiguousarray(table.to_numpy().T)
    array = group.create_array("values", shape=values.shape, dtype="float64", chunks=(1000, values.shape[1]),
                               compressors=None)
    array[:] = values
    group.attrs["samples"] = table.index.astype(str).tolist()
    pd.DataFrame({"feature_id": table.columns.astype(str)}).to_parquet(paths["zarr"] / "features.parquet")
    write_matrix(table, paths["feature matrix (ours)"])
    return paths


def _whole(name: str, path: Path) -> tuple[np.ndarray, int, int]:
    """Every value as a float64 array, with the number of sample and feature IDs read."""
    import anndata
    import zarr

    if name == "wide parquet":
        frame = pd.read_parquet(path)
        return frame.to_numpy(dtype=np.float64), len(frame.index), len(frame.columns)
    if name in ("transposed parquet", "Feather (transposed)"):
        tall = pq.read_table(path) if name.startswith("transposed") else feather.read_table(path)
        ids = tall.column("feature_id").to_numpy()
        values = np.column_stack([tall.column(i).to_numpy() for i in range(1, tall.num_columns)])
        return values, tall.num_columns - 1, len(ids)
    if name == "AnnData .h5ad":
        adata = anndata.read_h5ad(path)
        return np.asarray(adata.X, dtype=np.float64), adata.n_obs, adata.n_vars
    if name == "zarr":
        group = zarr.open_group(str(path), mode="r")
        ids = pd.read_parquet(path / "features.parquet")["feature_id"]
        return group["values"][:], len(group.attrs["samples"]), len(ids)
    matrix = open_matrix(path)
    return np.array(matrix.values), *matrix.shape  # IDs read as arrays, as above (no hash of them)


def _gene(name: str, path: Path, wanted: list[str]) -> np.ndarray:
    """The values of a few features (one gene's transcripts), samples x features."""
    import anndata
    import zarr

    if name == "wide parquet":
        return pd.read_parquet(path, columns=wanted).to_numpy()
    if name in ("transposed parquet", "Feather (transposed)"):
        tall = pq.read_table(path) if name.startswith("transposed") else feather.read_table(path)
        rows = pd.Index(tall.column("feature_id").to_numpy()).get_indexer(wanted)
        return np.column_stack([tall.column(i).take(pa.array(rows)).to_numpy() for i in range(1, tall.num_columns)]).T
    if name == "AnnData .h5ad":
        adata = anndata.read_h5ad(path, backed="r")
        cols = adata.var_names.get_indexer(wanted)
        return np.asarray(adata.X[:, np.sort(cols)])
    if name == "zarr":
        ids = pd.Index(pd.read_parquet(path / "features.parquet")["feature_id"])
        rows = np.sort(ids.get_indexer(wanted))
        return zarr.open_group(str(path), mode="r")["values"].get_orthogonal_selection((rows, slice(None))).T
    return open_matrix(path).columns(wanted).to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    rng = np.random.default_rng(0)
    values = rng.random((args.samples, args.features))
    values[rng.random(values.shape) < 0.2] = np.nan
    table = pd.DataFrame(values, index=pd.Index([f"S{i:05d}" for i in range(args.samples)], name="sample_id"),
                         columns=[f"ENST{j:011d}" for j in range(args.features)])
    folder = Path(tempfile.mkdtemp(prefix="isograph-formats-"))
    try:
        t0 = time.perf_counter()
        paths = _write_all(table, folder)
        print(f"table: {args.samples} samples x {args.features} features, float64, 20% missing"
              f" ({values.nbytes / 2**20:.0f} MiB); written in {time.perf_counter() - t0:.1f} s (not timed)")
        wanted = [table.columns[j] for j in (args.features // 2 + np.arange(5))]
        expected_gene = table[wanted].to_numpy()
        names = list(paths)
        times: dict[tuple[str, str], list[float]] = {(n, k): [] for n in names for k in ("whole", "gene")}
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                start = time.perf_counter()
                got, n_samples, n_features = _whole(name, paths[name])
                times[(name, "whole")].append(time.perf_counter() - start)
                assert (n_samples, n_features) == (args.samples, args.features), name
                assert got.size == values.size, name
                start = time.perf_counter()
                gene = _gene(name, paths[name], wanted)
                times[(name, "gene")].append(time.perf_counter() - start)
                assert np.array_equal(np.asarray(gene).reshape(expected_gene.shape), expected_gene, equal_nan=True), name
                del got
        base = {k: statistics.median(times[("wide parquet", k)]) for k in ("whole", "gene")}
        print(f"\nmedian of {args.rounds} interleaved rounds (files in the page cache after round 1)\n")
        print(f"{'layout':<24} {'read whole (s)':>15} {'ratio':>7} {'one gene (s)':>13} {'ratio':>7}")
        for name in names:
            whole, gene = (statistics.median(times[(name, k)]) for k in ("whole", "gene"))
            print(f"{name:<24} {whole:>15.3f} {base['whole'] / whole:>6.1f}x {gene:>13.4f} {base['gene'] / gene:>6.1f}x")
        print("\nratio = wide parquet's time / this layout's time (higher is faster)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
