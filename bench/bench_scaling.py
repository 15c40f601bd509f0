"""Scaling-laws benchmark: page warm rerun (AppTest), closed-form maths, the fitters on the bundled
example, and the full live tiny sweep. Writes bench/results/scaling.md.

Run: .venv/bin/python -m bench.bench_scaling
"""
from __future__ import annotations

import os
import pathlib
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def main() -> pathlib.Path:
    import numpy as np
    from streamlit.testing.v1 import AppTest

    from bench.common import md_table, median_time, write_report
    from core.scaling import laws as scaling
    from core.scaling import tiny_sweep
    from core.runtime.paths import ASSETS, REPO
    from core.scaling.fit import fit_chinchilla_form, fit_power_law, read_runs_csv

    rows = []
    runs = read_runs_csv((ASSETS / "scaling" / "example_runs.csv").read_bytes())
    C = np.geomspace(1e18, 1e26, 1000)
    t, _ = median_time(lambda: scaling.compute_optimal(C, "epoch"), repeat=20)
    rows.append({"what": "compute_optimal, 1,000 budgets (closed form)", "median": f"{t * 1e3:.3f} ms"})
    t, _ = median_time(lambda: scaling.isoflop_curves([1e19, 1e21, 1e23], "hoffmann"), repeat=20)
    rows.append({"what": "isoflop_curves, 3 budgets × 80 points", "median": f"{t * 1e3:.2f} ms"})
    big = runs[runs["D"] == runs["D"].max()]
    t, _ = median_time(lambda: fit_power_law(big["N"], big["loss"]), repeat=5)
    rows.append({"what": "fit_power_law, 6 runs, 300 bootstrap resamples", "median": f"{t:.3f} s"})
    t, _ = median_time(lambda: fit_power_law(big["N"], big["loss"], offset=True), repeat=3)
    rows.append({"what": "fit_power_law with floor E, 6 runs, 300 resamples", "median": f"{t:.3f} s"})
    t, _ = median_time(lambda: fit_chinchilla_form(runs["N"], runs["D"], runs["loss"]), repeat=3, warmup=0)
    rows.append({"what": "fit_chinchilla_form, 18 runs, Huber + L-BFGS, 40 resamples", "median": f"{t:.2f} s"})

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    at.run()
    at.switch_page("pages/scaling.py")
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    t, _ = median_time(at.run, repeat=5, warmup=1)
    rows.append({"what": "page first run (AppTest, all 7 tabs)", "median": f"{cold:.2f} s (single)"})
    rows.append({"what": "page warm rerun (AppTest, all 7 tabs, caches warm)", "median": f"{t:.2f} s"})

    cfg = tiny_sweep.PRESETS["full"]
    res = tiny_sweep.run_sweep(cfg)
    rows.append({"what": f"live tiny sweep, preset 'full' ({len(cfg.widths)} models × {cfg.steps} steps, "
                         f"{res.device})", "median": f"{res.seconds:.1f} s (single run)"})
    per_model = ", ".join(f"d={r['d_model']}: {r['seconds']:.1f} s" for _, r in res.runs.iterrows())
    body = (md_table(rows) + "\n\n"
            f"- Tiny sweep per model: {per_model}.\n"
            f"- Tiny sweep fit: exponent {res.fit.exponent:.3f} (95% CI {res.fit.ci[0]:.3f} to {res.fit.ci[1]:.3f}); "
            f"val loss {res.runs['val loss'].iloc[0]:.3f} → {res.runs['val loss'].iloc[-1]:.3f} nats/char.\n"
            "- The fitters run with BLAS limited to one thread (threadpoolctl) and the sweep with one torch "
            "thread on CPU: on the shared 2-core machine that was 4-9× faster than the default.\n")
    return write_report("scaling", "Scaling laws", body)


if __name__ == "__main__":
    print(main().read_text())
