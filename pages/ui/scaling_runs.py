"""Scaling-laws tabs on runs: fit your own runs (a power law, or the Chinchilla form with D) and
the live tiny sweep trained on this machine. Maths: core.scaling.fit, core.scaling.tiny_sweep."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.runtime import limits
from core.scaling import fit as scaling_fit
from core.scaling import tiny_sweep
from core.figures import scaling as figs
from core.runtime.paths import ASSETS
from core.scaling.laws import fmt_count
from pages.ui.jobs import background
from pages.ui import show_figure, show_table, url_select, url_slider, url_toggle

EXAMPLE_CSV = ASSETS / "scaling" / "example_runs.csv"


@st.cache_data(max_entries=16, show_spinner="Fitting…")
def _fit_power(x: tuple, y: tuple, offset: bool):
    return scaling_fit.fit_power_law(np.array(x), np.array(y), offset=offset)


@st.cache_data(max_entries=16, show_spinner="Fitting the Chinchilla form (Huber, L-BFGS, bootstrap)…")
def _fit_chinchilla(N: tuple, D: tuple, L: tuple):
    return scaling_fit.fit_chinchilla_form(np.array(N), np.array(D), np.array(L))


# --------------------------------------------------------------------------- fit your runs
def read_runs(source: str) -> pd.DataFrame | None:
    """The table of runs from the example, an upload, or the editable grid (validated); None
    while no file is uploaded."""
    if source == "upload a CSV":
        cap = limits.current().max_upload_bytes
        up = st.file_uploader(f"CSV with columns N, loss and optionally D (≤ {cap // 2**20} MB)", type=["csv"])
        if up is None:
            st.info("Upload a CSV to fit it (the example file shows the format).")
            return None
        return scaling_fit.read_runs_csv(up.getvalue())
    if source == "edit a table":
        seed = pd.read_csv(EXAMPLE_CSV, dtype=str)
        edited = st.data_editor(seed, num_rows="dynamic", key="scaling-runs-editor")
        return scaling_fit.validate_runs(edited)
    return scaling_fit.read_runs_csv(EXAMPLE_CSV.read_bytes())


def fit_runs() -> None:
    st.markdown("The standard recipe: *train small models, fit the curve, predict a bigger one.* The bundled "
                "example was **generated from the Epoch refit L(N, D) with 1 % log-normal noise** (6 sizes × 3 "
                "token counts, seed 7; `core.scaling.fit.synthetic_runs`), so a good fit should recover "
                "α ≈ 0.35, β ≈ 0.37.")
    source = url_select("Runs", ["example CSV", "upload a CSV", "edit a table"], "runs", radio=True)
    runs = read_runs(source)
    if runs is None:
        return
    st.download_button("Example CSV", EXAMPLE_CSV.read_bytes(), "example_runs.csv", "text/csv", on_click="ignore")
    has_d = "D" in runs.columns
    kinds = (["Chinchilla form L(N, D)"] if has_d else []) + ["power law L(N)"]   # the form α, β belong to
    kind = url_select("Fit", kinds, "fitkind", radio=True)
    if kind.startswith("power"):
        _fit_power_section(runs, has_d)
    else:
        _fit_chinchilla_section(runs)


def _fit_power_section(runs: pd.DataFrame, has_d: bool) -> None:
    offset = url_toggle("Add an irreducible floor E (y = E + c·N^k)", "offset")
    sub = runs
    if has_d and runs["D"].nunique() > 1:
        sub = runs[runs["D"] == runs["D"].max()]
        st.caption(f"Runs differ in D: the power law in N uses the {len(sub)} runs at the largest D "
                   f"({fmt_count(runs['D'].max())} tokens). Use the Chinchilla form to use them all.")
    if len(sub) < 3:
        st.warning(f"Only {len(sub)} runs share the largest D; a power law needs 3.")
        return
    fit = _fit_power(tuple(sub["N"]), tuple(sub["loss"]), offset)
    target = 10 ** url_slider("Extrapolate to log₁₀ N", "targetN", 3.0, 13.0,
                              float(np.round(np.log10(sub["N"].max()) + 1, 1)), step=0.1)
    ext = scaling_fit.extrapolate(fit, [target])
    x_line = np.geomspace(sub["N"].min() / 2, max(target, sub["N"].max()) * 2, 80)
    lo, hi = fit.band(x_line)
    fig = figs.fit_figure(sub["N"], sub["loss"], x_line=x_line, y_line=fit.predict(x_line), band=(lo, hi),
                          targets=ext, x_title="N, parameters", y_title="loss",
                          source="your runs; fit: least squares in log space, pairs bootstrap (core.scaling.fit)")
    r = ext.iloc[0]
    show_figure(fig, "scaling-fit-power", data=pd.DataFrame({"N": x_line, "fit": fit.predict(x_line), "lo": lo,
                                                             "hi": hi}),
                summary=f"Exponent {fit.exponent:.4f} (95% CI {fit.ci[0]:.4f} to {fit.ci[1]:.4f}); at "
                        f"N = {fmt_count(target)} the fit predicts {r.prediction:.3f} ({r.lo:.3f}–{r.hi:.3f}).")
    st.caption(f"The exponent is negative because loss falls as N grows: L ∝ N^{fit.exponent:.3f}. It is not the "
               "Chinchilla α: without a floor E, a pure power law in N also absorbs the irreducible loss and the "
               "fixed-D term B/D^β, both of which flatten the curve, so |exponent| comes out well below α ≈ 0.35. "
               "Add the floor E, or fit the Chinchilla form, to recover α.")


def _fit_chinchilla_section(runs: pd.DataFrame) -> None:
    if len(runs) < 6:
        st.warning(f"The Chinchilla form has 5 parameters; it needs at least 6 runs (got {len(runs)}).")
        return
    fit = _fit_chinchilla(tuple(runs["N"]), tuple(runs["D"]), tuple(runs["loss"]))
    params = pd.DataFrame([{"parameter": k, "estimate": getattr(fit, k), "95% CI low": lo, "95% CI high": hi}
                           for k, (lo, hi) in fit.ci.items()])
    show_table(params, "scaling-fit-chinchilla-params",
               summary=f"α = {fit.alpha:.3f} ({fit.ci['alpha'][0]:.3f}–{fit.ci['alpha'][1]:.3f}), "
                       f"β = {fit.beta:.3f} ({fit.ci['beta'][0]:.3f}–{fit.ci['beta'][1]:.3f}); Huber δ = 1e-3 on "
                       "log loss, L-BFGS from a grid of starts, pairs bootstrap.")
    lc = url_slider("Extrapolate to log₁₀ C (FLOPs)", "targetC", 15.0, 26.0, 21.0, step=0.1)
    n, d, loss, (lo, hi) = fit.optimal(10 ** lc)
    st.metric(f"Compute-optimal at C = 1e{lc:g}", f"loss {loss:.3f} ({lo:.3f}–{hi:.3f})",
              help=f"N_opt {fmt_count(n)}, D_opt {fmt_count(d)} tokens under your fit")
    Ns = np.geomspace(runs["N"].min() / 2, runs["N"].max() * 4, 60)
    series = {f"fit, D = {fmt_count(dv)}": fit.predict(Ns, dv) for dv in sorted(runs["D"].unique())}
    fig = figs.lines_loglog(Ns, series, x_title="N, parameters", y_title="loss", log_y=True,
                            source="your runs; Chinchilla-form fit (core.scaling.fit.fit_chinchilla_form)")
    figs.add_points(fig, runs["N"], runs["loss"], [f"D = {fmt_count(v)}" for v in runs["D"]])
    show_figure(fig, "scaling-fit-chinchilla", data=runs.assign(fitted=fit.predict(runs["N"], runs["D"])),
                summary=f"Fitted E = {fit.E:.3f}; at C = 1e{lc:g} the fit's optimum is {fmt_count(n)} parameters "
                        f"on {fmt_count(d)} tokens, loss {loss:.3f} (band {lo:.3f}–{hi:.3f}).")


# --------------------------------------------------------------------------- tiny sweep
def sweep() -> None:
    hosted = limits.hosted()
    cfg = tiny_sweep.PRESETS["hosted" if hosted else "full"]
    st.markdown(f"Train **{len(cfg.widths)} tiny character-level GPTs** (d_model {', '.join(map(str, cfg.widths))}; "
                f"{cfg.n_layer} layers) **here, now**, on gensim's bundled *lee_background* news corpus, each for "
                f"{cfg.steps} steps × {cfg.batch} × {cfg.context} characters, then fit validation loss against N "
                "with the same fitter as above. These models are tiny (10³–10⁵ parameters): the method is the "
                "point, not the exponent.")
    if hosted:
        st.info(f"Hosted mode: the sweep is capped to {len(cfg.widths)} models × {cfg.steps} steps.")
    res = background(f"scaling-sweep-{'hosted' if hosted else 'full'}", "training",
                     lambda report: tiny_sweep.run_sweep(cfg, report),
                     button="Train the sweep", icon=":material/play_arrow:")
    if res is None:
        st.caption("Takes about 1–3 minutes on a 2-core CPU, less on a GPU; the result is kept for this session.")
        return
    st.caption(f"Trained on {res.device} in {res.seconds:.0f} s (kept for this session).")
    runs = res.runs
    show_table(runs.round(4), "scaling-sweep-runs")
    show_figure(figs.curves_figure(res.curves, source="trained here: core.scaling.tiny_sweep on lee_background.cor"),
                "scaling-sweep-curves", data=res.curves,
                summary=f"Final validation loss falls from {runs['val loss'].iloc[0]:.3f} to "
                        f"{runs['val loss'].iloc[-1]:.3f} nats/char as N grows.")
    if res.fit is not None:
        f = res.fit
        x_line = np.geomspace(runs["N (non-embedding)"].min() / 2, runs["N (non-embedding)"].max() * 10, 60)
        lo, hi = f.band(x_line)
        ext = scaling_fit.extrapolate(f, [runs["N (non-embedding)"].max() * 10])
        show_figure(figs.fit_figure(runs["N (non-embedding)"], runs["val loss"], x_line=x_line,
                                    y_line=f.predict(x_line), band=(lo, hi), targets=ext,
                                    x_title="N, non-embedding parameters", y_title="validation loss (nats/char)",
                                    source="trained here (core.scaling.tiny_sweep); fit: core.scaling.fit.fit_power_law",
                                    label="tiny models"),
                    "scaling-sweep-fit", data=runs,
                    summary=f"Tiny-model exponent {f.exponent:.3f} (95% CI {f.ci[0]:.3f} to {f.ci[1]:.3f}); "
                            f"10× the largest model is predicted at {ext.prediction[0]:.3f} nats/char.")
