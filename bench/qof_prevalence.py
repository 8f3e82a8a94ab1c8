#!/usr/bin/env python3
"""The QOF 2022-23 prevalence analysis in pandas: the baseline bench/qof_prevalence.sql is timed
against (scripts/bench-qof.sh) and checked against row by row (bench/qof_prevalence_test.go).

The same analysis as the SQL file, written the way a pandas analyst would (vectorised, numpy for
the SII simulation): for every practice and QOF register prevalence with 95% and 99.8% Wilson
intervals, the comparison with England, the funnel label around England's prevalence and the PHE
decile; ICB totals; and the SII/RII across national practice IMD deciles (100,000 simulations).
Rows whose register exceeds the list size are left out, as in the SQL.

    python3 bench/qof_prevalence.py --data ../shared/data/real --out DIR

writes DIR/england.csv, icbs.csv, sii.csv and practices.csv, and prints the analysis time
(reading to writing, imports excluded) on standard error.
"""
import argparse
import os
import sys
import time
from statistics import NormalDist

import numpy as np
import pandas as pd

# z(c) = Φ⁻¹(c + (1 − c)/2), as METRICS.md.
Z95 = NormalDist().inv_cdf(0.975)
Z998 = NormalDist().inv_cdf(0.999)


def wilson(x, n, z):
    """Wilson score limits of x/n (METRICS.md), exactly 0 at x = 0 and 1 at x = n."""
    z2 = z * z
    root = z * np.sqrt(z2 + 4 * x * (1 - x / n))
    den = 2 * (n + z2)
    lo = np.where(x == 0, 0.0, (2 * x + z2 - root) / den)
    hi = np.where(x == n, 1.0, (2 * x + z2 + root) / den)
    return np.maximum(lo, 0), np.minimum(hi, 1)


def add_intervals(df):
    df["prevalence"] = df["register"] / df["list_size"]
    df["lower95"], df["upper95"] = wilson(df["register"].to_numpy(), df["list_size"].to_numpy(), Z95)
    df["lower998"], df["upper998"] = wilson(df["register"].to_numpy(), df["list_size"].to_numpy(), Z998)


def compare_label(df):
    """Benchmark against the 95% and 99.8% intervals (no polarity)."""
    higher = df["lower95"] > df["england"]
    lower = ~higher & (df["upper95"] < df["england"])
    return np.select(
        [higher & (df["lower998"] > df["england"]), higher, lower & (df["upper998"] < df["england"]), lower],
        ["significantly higher", "higher", "significantly lower", "lower"],
        "similar",
    )


def phe_quantile(values, groups, k, descending=False):
    """PHE's rule: rank ties at the minimum, q = floor((k+1) - ceil(((N+1) - rank)/(N/k))), 0 -> 1."""
    v = -values if descending else values
    rank = v.groupby(groups).rank(method="min") if groups is not None else v.rank(method="min")
    n = v.groupby(groups).transform("count") if groups is not None else v.count()
    q = np.floor((k + 1) - np.ceil(((n + 1) - rank) / (n / k)))
    return np.maximum(q, 1).astype(int)


def sii(values, pops, lowers, uppers, mult, reps, seed, conf=0.95):
    """SII/RII of proportions on the natural scale, simulated on the logit scale (phe_sii)."""
    a = pops / pops.sum()
    b = np.cumsum(a) - a / 2
    sa = np.sqrt(a)
    x = np.column_stack([sa, b * sa])
    coef = np.linalg.solve(x.T @ x, x.T)  # rows: intercept, slope as functions of √a·y
    c0, c1 = coef @ (sa * values)
    logit = lambda p: np.log(p / (1 - p))
    se = (logit(uppers) - logit(lowers)) / (2 * Z95)
    rng = np.random.default_rng(seed)
    y = 1 / (1 + np.exp(-(logit(values) + se * rng.standard_normal((reps, len(values))))))
    s0, s1 = (y * sa) @ coef.T[:, 0], (y * sa) @ coef.T[:, 1]
    cv = conf + (1 - conf) / 2
    lo, hi = int(round(reps * (1 - cv))) - 1, int(round(reps * cv)) - 1
    siis, riis = np.sort(s1 * mult), np.sort((s0 + s1) / s0)
    return {
        "sii": c1 * mult, "sii_lower": siis[lo], "sii_upper": siis[hi],
        "rii": (c0 + c1) / c0, "rii_lower": riis[lo], "rii_upper": riis[hi], "intercept": c0 * abs(mult),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/real", help="the real files (see its SOURCES.md)")
    ap.add_argument("--out", required=True, help="directory for the CSV results")
    ap.add_argument("--reps", type=int, default=100000, help="SII simulations")
    args = ap.parse_args()
    start = time.perf_counter()

    prev = pd.read_csv(
        os.path.join(args.data, "qof/2022-23/PREVALENCE_2223.csv"),
        names=["practice_code", "group_code", "register", "list_type", "list_size"], header=0,
        dtype={"practice_code": str, "group_code": str, "register": float, "list_type": str, "list_size": float},
    )
    geo = pd.read_csv(os.path.join(args.data, "qof/2022-23/MAPPING_NHS_GEOGRAPHIES_2223.csv"), dtype=str)
    geo = geo[["PRACTICE_CODE", "ICB_ODS_CODE", "ICB_NAME"]].set_axis(["practice_code", "icb_code", "icb_name"], axis=1)
    prev = prev.merge(geo, on="practice_code")
    prev = prev[(prev["list_size"] > 0) & (prev["register"] <= prev["list_size"])]

    eng = prev.groupby("group_code").agg(practices=("practice_code", "size"), register=("register", "sum"),
                                         list_size=("list_size", "sum")).reset_index()
    eng["prevalence"] = eng["register"] / eng["list_size"]
    england = eng.set_index("group_code")["prevalence"]

    pr = prev.copy()
    add_intervals(pr)
    pr["england"] = pr["group_code"].map(england)
    pr["vs_england"] = compare_label(pr)
    # Funnel around England at the practice's list size (proportion: PHE's normal limits).
    t, n = pr["england"], pr["list_size"]
    se = np.sqrt(t * (1 - t) / n)
    p = pr["prevalence"]
    pr["funnel"] = np.select(
        [p < np.maximum(t - Z998 * se, 0), p < np.maximum(t - Z95 * se, 0),
         p > np.minimum(t + Z998 * se, 1), p > np.minimum(t + Z95 * se, 1)],
        ["Low (0.001)", "Low (0.025)", "High (0.001)", "High (0.025)"], "Not significant")
    pr["decile"] = phe_quantile(pr["prevalence"], pr["group_code"], 10)

    icb = prev.groupby(["icb_code", "icb_name", "group_code"]).agg(
        practices=("practice_code", "size"), register=("register", "sum"), list_size=("list_size", "sum")).reset_index()
    add_intervals(icb)
    icb["england"] = icb["group_code"].map(england)
    icb["vs_england"] = compare_label(icb)

    imd = pd.read_csv(os.path.join(args.data, "deprivation/indicator-data.csv"), dtype=str)
    imd = imd[(imd["Area Type"] == "GP") & imd["Value"].notna()]
    imd = imd.assign(score=imd["Value"].astype(float)).groupby("Area Code")["score"].max()
    scored = pd.DataFrame({"practice_code": prev["practice_code"].unique()})
    scored = scored.join(imd, on="practice_code", how="inner")
    scored["imd_decile"] = phe_quantile(scored["score"], None, 10, descending=True)
    d = prev.merge(scored[["practice_code", "imd_decile"]], on="practice_code")
    d = d.groupby(["group_code", "imd_decile"])[["register", "list_size"]].sum().reset_index()
    d["value"] = d["register"] / d["list_size"]
    d["lower95"], d["upper95"] = wilson(d["register"].to_numpy(), d["list_size"].to_numpy(), Z95)
    rows = []
    for g, gd in d.sort_values("imd_decile").groupby("group_code"):
        r = sii(gd["value"].to_numpy(), gd["list_size"].to_numpy(), gd["lower95"].to_numpy(),
                gd["upper95"].to_numpy(), 100, args.reps, 2223)
        rows.append({"group_code": g, **r})
    sii_df = pd.DataFrame(rows)

    os.makedirs(args.out, exist_ok=True)
    eng.sort_values("group_code").to_csv(os.path.join(args.out, "england.csv"), index=False)
    cols = ["icb_code", "icb_name", "group_code", "practices", "register", "list_size", "prevalence", "lower95",
            "upper95", "lower998", "upper998", "england", "vs_england"]
    icb.sort_values(["icb_code", "group_code"])[cols].to_csv(os.path.join(args.out, "icbs.csv"), index=False)
    sii_df.sort_values("group_code").to_csv(os.path.join(args.out, "sii.csv"), index=False)
    cols = ["practice_code", "group_code", "icb_code", "register", "list_size", "prevalence", "lower95", "upper95",
            "lower998", "upper998", "england", "vs_england", "funnel", "decile"]
    pr.sort_values(["practice_code", "group_code"])[cols].to_csv(os.path.join(args.out, "practices.csv"), index=False)
    print(f"pandas analysis: {time.perf_counter() - start:.3f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
