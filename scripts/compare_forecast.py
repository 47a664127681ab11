"""The measuring half of scripts/compare-forecast (run it through that script, which provides statsmodels)."""
import argparse
import csv
import glob
import math
import os
import subprocess
import warnings
from datetime import datetime

import numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing

FRACTION = 0.7
HORIZON_SECONDS = 900


def read(path):
    times, values = [], []
    with open(path) as fh:
        for row in csv.DictReader(fh):
            times.append(datetime.fromisoformat(row["timestamp"]).timestamp())
            values.append(float(row["value"]))
    return np.array(times), np.array(values)


def vigil_forecasts(vigil, path):
    """{(row index, steps): (forecast, lower, upper)} from `vigil forecast --backtest-from`."""
    proc = subprocess.run([vigil, "forecast", path, "--horizon", "15m", "--backtest-from", str(FRACTION)],
                          capture_output=True, text=True, check=True)
    out = {}
    for row in csv.DictReader(proc.stdout.splitlines()):
        out[(int(row["row"]) - 2, int(row["steps"]))] = (float(row["forecast"]), float(row["lower"]),
                                                           float(row["upper"]))
    return out, proc.stderr.strip().split("model: ")[-1].split(", backtest")[0]


def statsmodels_forecasts(values, split, m, steps):
    """Holt-Winters (additive damped trend, additive season m) fitted by statsmodels on the first part, then
    filtered through the whole series with the fitted parameters: {(target index, h): forecast}."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(values[:split], trend="add", damped_trend=True, seasonal="add",
                                   seasonal_periods=m, initialization_method="estimated").fit()
        p = fit.params
        full = ExponentialSmoothing(values, trend="add", damped_trend=True, seasonal="add", seasonal_periods=m,
                                    initialization_method="known", initial_level=p["initial_level"],
                                    initial_trend=p["initial_trend"],
                                    initial_seasonal=p["initial_seasons"]).fit(
            smoothing_level=p["smoothing_level"], smoothing_trend=p["smoothing_trend"],
            smoothing_seasonal=p["smoothing_seasonal"], damping_trend=p["damping_trend"], optimized=False)
    level, trend, season = np.asarray(full.level), np.asarray(full.trend), np.asarray(full.season)
    phi = p["damping_trend"]
    out = {}
    for target in range(split, len(values)):
        for h in steps:
            origin = target - h
            damping = sum(phi ** k for k in range(1, h + 1))
            out[(target, h)] = level[origin] + damping * trend[origin] + season[origin + h - m]
    # Consistency: the one-step forecasts are statsmodels' own fitted values.
    fitted = np.asarray(full.fittedvalues)
    check = [abs(out[(t, 1)] - fitted[t]) for t in range(split, min(split + 50, len(values)))]
    assert max(check) <= 1e-6 * (1 + np.abs(values).max()), f"state indexing mismatch {max(check)}"
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--data", required=True)
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.data, "realTraffic", "*.csv"))
                   + glob.glob(os.path.join(args.data, "realAWSCloudwatch", "*.csv"))
                   + glob.glob(os.path.join(args.data, "realKnownCause", "nyc_taxi.csv")))
    table = []
    for path in files:
        times, values = read(path)
        step = float(np.median(np.diff(times)[np.diff(times) > 0]))
        m = int(round(86400 / step))
        h = max(1, math.ceil(HORIZON_SECONDS / step))
        split = int(len(values) * FRACTION)
        scale = np.mean(np.abs(values[m:split] - values[:split - m]))
        name = os.path.relpath(path, args.data)
        if not scale > 0:
            print(f"skip {name}: in-sample seasonal naive error is 0")
            continue
        vigil, model = vigil_forecasts(args.vigil, path)
        sm = statsmodels_forecasts(values, split, m, sorted({1, h}))
        row = {"name": name, "model": model, "h": h}
        for steps in sorted({1, h}):
            targets = [t for t in range(split + steps - 1, len(values)) if (t, steps) in vigil and t >= split + h]
            actual = values[targets]
            v = np.array([vigil[(t, steps)][0] for t in targets])
            lo = np.array([vigil[(t, steps)][1] for t in targets])
            hi = np.array([vigil[(t, steps)][2] for t in targets])
            naive = values[[t - m for t in targets]]
            s = np.array([sm[(t, steps)] for t in targets])
            key = "1" if steps == 1 else "h"
            row["vigil" + key] = np.mean(np.abs(actual - v)) / scale
            row["naive" + key] = np.mean(np.abs(actual - naive)) / scale
            row["hw" + key] = np.mean(np.abs(actual - s)) / scale
            row["cover" + key] = np.mean((actual >= lo) & (actual <= hi))
        if h == 1:
            for k in ("vigil", "naive", "hw", "cover"):
                row[k + "h"] = row[k + "1"]
        table.append(row)
    header = f"{'series':48s} {'h':>2s} | {'vigil':>6s} {'snaive':>6s} {'sm-HW':>6s} {'cov80':>5s} | " \
             f"{'vigil':>6s} {'snaive':>6s} {'sm-HW':>6s} {'cov80':>5s} | model"
    print("MASE, 1 step ahead (left) and 15 minutes ahead (right); cov80 = share inside Vigil's 80 % interval")
    print(header)
    for r in table:
        print(f"{r['name'][:48]:48s} {r['h']:2d} | {r['vigil1']:6.3f} {r['naive1']:6.3f} {r['hw1']:6.3f} "
              f"{r['cover1']:5.2f} | {r['vigilh']:6.3f} {r['naiveh']:6.3f} {r['hwh']:6.3f} {r['coverh']:5.2f} | "
              f"{r['model']}")
    mean = {k: float(np.mean([r[k] for r in table])) for k in table[0] if k not in ("name", "model", "h")}
    print(f"{'mean over ' + str(len(table)) + ' series':48s}    | {mean['vigil1']:6.3f} {mean['naive1']:6.3f} "
          f"{mean['hw1']:6.3f} {mean['cover1']:5.2f} | {mean['vigilh']:6.3f} {mean['naiveh']:6.3f} "
          f"{mean['hwh']:6.3f} {mean['coverh']:5.2f}")
    wins = all(mean["vigil" + k] < min(mean["naive" + k], mean["hw" + k]) for k in ("1", "h"))
    covered = all(0.7 <= mean["cover" + k] <= 0.9 for k in ("1", "h"))
    print(f"vigil beats both on mean MASE: {'yes' if wins else 'NO'}; "
          f"80 % interval coverage within 70-90 %: {'yes' if covered else 'NO'}")


if __name__ == "__main__":
    main()
