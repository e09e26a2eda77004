"""Benchmark: app server time on a 20,000-gene data set, and PDF export with a warm exporter.

Setup (not timed): simulate 20,000 synthetic genes x 300 samples (100,000 transcript-usage features,
20 modules), explain every module of the oracle fit, write a data set folder, build the app.

Timed:
0. the first gene view of a server process that has not warmed up (gene index and the gene's features read
   cold), each in a fresh process (imports not timed), with the feature table as ``features.matrix`` (what
   ``simulate`` and the demo write) and as the manual's wide parquet (a copy of the data set), interleaved,
   3 rounds (fewer when ``--repeats`` is);
1. a gene click: the module page's click callback (``open_gene``) plus the gene page's layout (tables
   read, five figures built) and its JSON serialisation, i.e. everything the server does between the
   click and the finished gene view; 20 different genes, median reported (the first, cold call apart);
2. PDF export of the module's driver barplot through kaleido + chromium after a warm-up, median of
   ``--repeats``: in the server process, and as the app's export job does it (a forked job process sending the figure to
   the server's ExportService), against the same job starting its own exporter (the baseline).

Run: ``python bench/app_latency.py [--genes 20000 --samples 300 --modules 20 --repeats 10]``. Targets: gene
view <= 300 ms, PDF <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import plotly

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from isograph.explain import explain_module  # noqa: E402
from isograph.figures.explain import driver_barplot  # noqa: E402
from isograph.figures.render import figure_bytes  # noqa: E402
from isograph.simulate import SimulationConfig, simulate, write_simulation  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--modules", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=10, help="PDF exports per contender (own exporter: a third)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    sim = simulate(SimulationConfig(n_samples=args.samples, n_genes=args.genes, gene_models="synthetic",
                                    isoforms_per_gene=5, n_modules=args.modules, seed=3))
    with tempfile.TemporaryDirectory(prefix="isograph-app-bench-") as folder:  # removed at the end, also on an error
        (Path(folder) / "root").mkdir()
        run(args, sim, Path(folder) / "root", t0)


def run(args: argparse.Namespace, sim, root: Path, t0: float) -> None:
    """The timed part, with the data sets in ``root`` (the cold servers' caches go next to it)."""
    ds = root / "big"
    write_simulation(sim, ds)
    explain_module(ds / "oracle_fit", sim.feature_table, sim.feature_meta, output_dir=ds / "explain")
    (ds / "dataset.json").write_text(json.dumps({"name": "20k genes", "paths": {"fit": "oracle_fit"}}))
    wide = root / "big_parquet"  # the same data set with the manual's wide feature table
    shutil.copytree(ds, wide, ignore=shutil.ignore_patterns("features.matrix"))
    sim.feature_table.to_parquet(wide / "features.parquet")
    (wide / "dataset.json").write_text(json.dumps({"name": "20k genes, wide parquet", "paths": {"fit": "oracle_fit"}}))
    app = create_app({"data_root": root, "cache_dir": str(root.parent / "cache")})
    print(f"setup (not timed): {time.perf_counter() - t0:.0f} s; {sim.feature_table.shape[1]:,} features")

    gene = sim.oracle_modules["gene_id"].iloc[0]
    module = sim.oracle_modules["module_id"].iloc[0]
    cold: dict[str, list[float]] = {"big": [], "big_parquet": []}
    for i in range(min(3, args.repeats)):
        for name in (list(cold) if i % 2 == 0 else list(cold)[::-1]):
            cold[name].append(_cold_gene_view(root, name, gene, module, root.parent / f"cache_{name}_{i}"))
    for name, label in (("big", "features.matrix"), ("big_parquet", "wide parquet")):
        print(f"first gene view of a server that has not warmed up, {label}: median {np.median(cold[name]):.2f} s"
              " (" + ", ".join(f"{t:.2f}" for t in cold[name]) + ")")
    print(f"wide parquet / .matrix: {np.median(cold['big_parquet']) / np.median(cold['big']):.0f}x")

    from app import warm_up
    from pages import gene as gene_page
    from pages import module as module_page

    t0 = time.perf_counter()
    warm_up(app.server.config["ISOGRAPH"]).join()  # `python app.py` runs this in a thread at start
    print(f"warm-up at server start (gene index, exporter): {time.perf_counter() - t0:.1f} s")

    genes = sim.oracle_modules.groupby("module_id").head(1)["gene_id"].tolist()[:20]
    module_of = sim.oracle_modules.set_index("gene_id")["module_id"]
    times = []
    with app.server.test_request_context():
        for gene in genes:
            start = time.perf_counter()
            click = {"points": [{"customdata": [gene, 0.9, 1e-5, 300]}]}
            url = module_page.gene_href_from_click(click, {"module": module_of[gene], "dataset": "big"})
            assert url.startswith(f"/genes/{gene}")
            page = gene_page.layout(gene_id=gene, module=module_of[gene], dataset="big")
            json.dumps(page, cls=plotly.utils.PlotlyJSONEncoder)
            times.append(time.perf_counter() - start)
    print(f"gene click -> finished gene view (server): median {np.median(times[1:]) * 1000:.0f} ms over"
          f" {len(times) - 1} genes (first, after the warm-up: {times[0] * 1000:.0f} ms; max {max(times[1:]) * 1000:.0f} ms)"
          "  (target <= 300 ms)")

    with app.server.test_request_context():
        from isograph.dataset.datasets import open_dataset

        fig = driver_barplot(open_dataset(root, "big").explain.table("M000", "gene_driver_table"))
    t0 = time.perf_counter()
    figure_bytes(fig, "pdf")
    first = time.perf_counter() - t0
    pdf_times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        figure_bytes(fig, "pdf")
        pdf_times.append(time.perf_counter() - t0)
    print(f"PDF export of the driver barplot: first {first:.2f} s (the warm-up started the exporter), warm median"
          f" {np.median(pdf_times):.2f} s  (target <= 1 s)")

    address = app.server.config["ISOGRAPH"]["exporter"]
    via_service = [_in_forked_job(address, fig) for _ in range(args.repeats)]
    own_exporter = [_in_forked_job(None, fig) for _ in range(max(1, args.repeats // 3))]
    print(f"export job (forked process): through the server's warm exporter median {np.median(via_service):.2f} s;"
          f" starting its own exporter {np.median(own_exporter):.2f} s"
          f" ({np.median(own_exporter) / np.median(via_service):.0f}x)")


COLD = """
import json, sys, time
import plotly
from app import create_app
root, name, gene, module, cache = sys.argv[1:6]
app = create_app({"data_root": root, "cache_dir": cache})  # a new folder: no view cached by an earlier process
from pages import gene as gene_page  # pages register with the app, so after it
with app.server.test_request_context():
    start = time.perf_counter()
    json.dumps(gene_page.layout(gene_id=gene, module=module, dataset=name), cls=plotly.utils.PlotlyJSONEncoder)
    print(time.perf_counter() - start)
"""


def _cold_gene_view(root: Path, name: str, gene: str, module: str, cache: Path) -> float:
    """Seconds of the first gene view in a fresh server process with no warm-up and an empty ``cache`` folder
    (imports not timed)."""
    done = subprocess.run([sys.executable, "-c", COLD, str(root), name, gene, module, str(cache)], capture_output=True,
                          text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    return float(done.stdout.strip().splitlines()[-1])


def _in_forked_job(address, fig) -> float:
    """Seconds a forked job process takes to get the PDF (as Dash's DiskcacheManager runs a job)."""
    import multiprocessing

    from components.export_service import export_via

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def job():
        t0 = time.perf_counter()
        data = export_via(address, fig, "pdf")
        queue.put((time.perf_counter() - t0, data[:5]))

    process = ctx.Process(target=job)
    process.start()
    seconds, head = queue.get(timeout=120)
    process.join()
    assert head == b"%PDF-"
    return seconds


if __name__ == "__main__":
    main()
