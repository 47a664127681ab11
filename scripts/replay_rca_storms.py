#!/usr/bin/env python3
"""Storm compression: replays each RCA case's telemetry through a fresh `vigil serve` and reports the incidents.

For every case folder (the format of ../shared/eval/RCA_CASES.md) this starts `vigil serve --no-host` with the
case's topology.json as --dependencies, sends metrics.csv row by row in time order as OTLP/HTTP JSON gauges
(resource service.name = the column's service), waits until every sample is processed, and reads
/api/v1/incidents and each incident's detail. Nothing else is given: no onset, no alert. A case meets the goal
when exactly one incident opened at or after the fault's injection, none opened before it (the fault-free part),
and that incident's top-3 root-cause candidates hold the true root cause (from labels.json beside the cases).

Usage: python3 scripts/replay_rca_storms.py [--vigil .build/release/vigil] DATASET_DIR... [--limit N] [--json out.json]
"""

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port, method, path, body=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def read_metrics(path):
    """(times, [(service, metric, values)]) with None for empty cells."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, data = rows[0], rows[1:]
    times = [float(r[0]) for r in data]
    columns = []
    for j, name in enumerate(header[1:], 1):
        service, _, metric = name.rpartition(".")
        values = [float(r[j]) if j < len(r) and r[j] != "" else None for r in data]
        columns.append((service or name, metric, values))
    return times, columns


def otlp_request(times, columns, rows):
    """One ExportMetricsServiceRequest (JSON) with the given rows: one resource per service, gauges."""
    by_service = {}
    for service, metric, values in columns:
        points = [
            {"timeUnixNano": str(int(times[i] * 1e9)), "asDouble": values[i]} for i in rows if values[i] is not None
        ]
        if points:
            by_service.setdefault(service, []).append({"name": metric, "gauge": {"dataPoints": points}})
    return {
        "resourceMetrics": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeMetrics": [{"metrics": metrics}],
            }
            for service, metrics in sorted(by_service.items())
        ]
    }


def replay(vigil, case_dir, label, chunk):
    port = free_port()
    work = tempfile.mkdtemp(prefix="vigil-replay-")
    arguments = [vigil, "serve", "--no-host", "--port", str(port), "--data-dir", os.path.join(work, "data")]
    topology = os.path.join(case_dir, "topology.json")
    if os.path.exists(topology):
        arguments += ["--dependencies", topology]
    server = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "log"), "w"))
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except Exception:
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError(f"vigil serve did not start: {open(os.path.join(work, 'log')).read()}")
                time.sleep(0.1)
        started = time.time()
        times, columns = read_metrics(os.path.join(case_dir, "metrics.csv"))
        for start in range(0, len(times), chunk):
            http(port, "POST", "/v1/metrics", otlp_request(times, columns, range(start, min(len(times), start + chunk))))
        # Every accepted sample processed, then two ticks so the last findings reach the correlator.
        deadline = time.time() + 60
        while time.time() < deadline:
            samples = http(port, "GET", "/api/v1/stats")["samples"]
            if samples["processed"] >= samples["accepted"]:
                break
            time.sleep(0.1)
        time.sleep(2.5)
        summaries = http(port, "GET", "/api/v1/incidents?limit=1000")
        incidents = [http(port, "GET", f"/api/v1/incidents/{s['id']}") for s in summaries]
        seconds = time.time() - started
    finally:
        server.terminate()
        server.wait()
    inject = label["inject_time"]
    truth = label["root_cause_service"]

    def opened(incident):
        return min(time_of(m["firstSeen"]) for m in incident["members"])

    before = [i for i in incidents if opened(i) < inject]
    after = [i for i in incidents if opened(i) >= inject]
    top3 = [c["service"] for c in after[0]["rootCauses"][:3]] if len(after) == 1 else []
    return {
        "case": os.path.basename(case_dir),
        "fault": label.get("fault"),
        "truth": truth,
        "incidents_before_fault": len(before),
        "incidents_after_fault": len(after),
        "symptoms": sum(i["symptomCount"] for i in incidents),
        "top3": top3,
        "met": not before and len(after) == 1 and truth in top3,
        "seconds": round(seconds, 1),
    }


def time_of(iso):
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+", help="dataset folders holding case folders and labels.json")
    parser.add_argument("--vigil", default=".build/release/vigil")
    parser.add_argument("--limit", type=int, default=0, help="at most this many cases per dataset")
    parser.add_argument("--chunk", type=int, default=30, help="rows per OTLP request")
    parser.add_argument("--json", help="write per-case results here")
    options = parser.parse_args()
    results = []
    for dataset in options.datasets:
        labels = json.load(open(os.path.join(dataset, "labels.json")))
        cases = sorted(c for c in labels if os.path.isdir(os.path.join(dataset, c)))
        if options.limit:
            cases = cases[: options.limit]
        for number, case in enumerate(cases, 1):
            result = replay(options.vigil, os.path.join(dataset, case), labels[case], options.chunk)
            result["dataset"] = os.path.basename(os.path.normpath(dataset))
            results.append(result)
            print(
                f"[{number}/{len(cases)}] {result['dataset']}/{case}: {result['incidents_before_fault']} before, "
                f"{result['incidents_after_fault']} after the fault, {result['symptoms']} symptoms, "
                f"top-3 {result['top3']} (truth {result['truth']}) {'MET' if result['met'] else 'missed'}",
                file=sys.stderr,
                flush=True,
            )
    print(f"{'dataset':10s} {'cases':>5s} {'met':>5s} {'share':>6s} {'1 incident':>10s} {'quiet before':>12s} "
          f"{'symptoms/incident':>17s}")
    for dataset in sorted({r["dataset"] for r in results}):
        group = [r for r in results if r["dataset"] == dataset]
        incidents = sum(r["incidents_before_fault"] + r["incidents_after_fault"] for r in group)
        symptoms = sum(r["symptoms"] for r in group)
        print(
            f"{dataset:10s} {len(group):5d} {sum(r['met'] for r in group):5d} "
            f"{sum(r['met'] for r in group) / len(group):6.2f} "
            f"{sum(r['incidents_after_fault'] == 1 for r in group):10d} "
            f"{sum(r['incidents_before_fault'] == 0 for r in group):12d} "
            f"{(symptoms / incidents if incidents else 0):17.1f}"
        )
    if options.json:
        json.dump(results, open(options.json, "w"), indent=1)


if __name__ == "__main__":
    main()
