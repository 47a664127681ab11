#!/usr/bin/env python3
"""Storm compression: replays each RCA case's telemetry through a fresh `vigil serve` and reports the incidents.

For every case folder (the format of ../shared/eval/RCA_CASES.md) this starts `vigil serve --no-host` with the
case's topology.json as --dependencies, sends metrics.csv row by row in time order as OTLP/HTTP JSON gauges
(resource service.name = the column's service), waits until every sample is processed, and reads
/api/v1/incidents and each incident's detail: once after the fault-free rows (the incidents then are false
alarms) and once at the end. Nothing else is given: no onset, no alert. A case meets the goal when exactly one
new incident opened after the fault-free part, none opened during it, and that incident's top-3 root-cause
candidates hold the true root cause (from labels.json beside the cases). A lone blip a few seconds before the
injection is no incident until the fault's symptoms join it; such incidents are counted apart ("early member").
The summary also counts the incidents whose impact chain starts at their top candidate.

With --timeline, a dataset whose cases are overlapping windows of one recording (nezha-ob: each case's window
holds the faults injected before it) is stitched back into that recording (rows merged by time, overlaps checked
to agree, split where rows stop for more than an hour) and each recording is replayed through one server, as
`vigil serve` would see it running. Rows are sent up to each fault's injection in turn and the incidents are read
just before the next fault starts. A fault meets the goal when exactly one new incident opened between its
injection and the next fault and that incident's top-3 candidates hold the true root cause. A fault starts with the row that
holds its injection (rows are stamped with the start of their step: the row of 14:30:00 already shows a fault
injected at 14:30:10). Faults injected before the
detectors' warm-up ends (150 rows) are reported apart: no detector may alert that early.

Usage: python3 scripts/replay_rca_storms.py [--vigil .build/release/vigil] DATASET_DIR... [--limit N] [--json out.json]
       python3 scripts/replay_rca_storms.py --timeline DATASET_DIR...
"""

import argparse
import csv
import json
import os
import shutil
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


class Server:
    """A fresh `vigil serve --no-host` on a free loopback port, stopped on exit."""

    def __init__(self, vigil, topology):
        self.port = free_port()
        self.work = tempfile.mkdtemp(prefix="vigil-replay-")
        arguments = [vigil, "serve", "--no-host", "--port", str(self.port), "--data-dir", os.path.join(self.work, "data")]
        if topology and os.path.exists(topology):
            arguments += ["--dependencies", topology]
        self.log = os.path.join(self.work, "log")
        self.process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))

    def __enter__(self):
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1)
                return self
            except Exception:
                if time.time() > deadline or self.process.poll() is not None:
                    self.process.kill()
                    raise RuntimeError(f"vigil serve did not start: {open(self.log).read()}")
                time.sleep(0.1)

    def __exit__(self, *error):
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    def send(self, times, columns, rows, chunk):
        """Sends the rows as OTLP requests of `chunk` rows, then waits until the server has processed them all."""
        rows = list(rows)
        for start in range(0, len(rows), chunk):
            http(self.port, "POST", "/v1/metrics", otlp_request(times, columns, rows[start : start + chunk]))
        # Every accepted sample processed, then two ticks so the last findings reach the correlator.
        deadline = time.time() + 60
        while time.time() < deadline:
            samples = http(self.port, "GET", "/api/v1/stats")["samples"]
            if samples["processed"] >= samples["accepted"]:
                break
            time.sleep(0.1)
        time.sleep(2.5)

    def incidents(self):
        summaries = http(self.port, "GET", "/api/v1/incidents?limit=1000")
        return [http(self.port, "GET", f"/api/v1/incidents/{s['id']}") for s in summaries]


def fault_start(times, inject):
    """The time of the row that holds the injection: a row is stamped with the start of its step, so the row
    stamped 14:30:00 of one-minute rows already shows a fault injected at 14:30:10."""
    return max((t for t in times if t <= inject), default=inject)


def opened(incident):
    return min(time_of(m["firstSeen"]) for m in incident["members"])


def replay(vigil, case_dir, label, chunk):
    with Server(vigil, os.path.join(case_dir, "topology.json")) as server:
        started = time.time()
        times, columns = read_metrics(os.path.join(case_dir, "metrics.csv"))
        inject = fault_start(times, label["inject_time"])
        # The fault-free part first: whatever is an incident once it has been replayed opened before the fault
        # (a lone blip that the fault's symptoms join later is not one).
        fault_row = next((i for i, t in enumerate(times) if t >= inject), len(times))
        server.send(times, columns, range(fault_row), chunk)
        fault_free = {i["id"] for i in server.incidents()}
        server.send(times, columns, range(fault_row, len(times)), chunk)
        incidents = server.incidents()
        seconds = time.time() - started
    truth = label["root_cause_service"]

    before = [i for i in incidents if i["id"] in fault_free]
    after = [i for i in incidents if i["id"] not in fault_free]
    early_members = sum(1 for i in after if opened(i) < inject)
    top3 = [c["service"] for c in after[0]["rootCauses"][:3]] if len(after) == 1 else []
    return {
        "case": os.path.basename(case_dir),
        "fault": label.get("fault"),
        "truth": truth,
        "incidents_before_fault": len(before),
        "incidents_after_fault": len(after),
        "symptoms": sum(i["symptomCount"] for i in incidents),
        "top3": top3,
        "confidences": [c["confidence"] for c in after[0]["rootCauses"][:3]] if len(after) == 1 else [],
        "impact_chain": after[0]["impactChain"] if len(after) == 1 else [],
        "met": not before and len(after) == 1 and truth in top3,
        # Incidents of the fault whose first member came before it: a blip the fault's symptoms joined.
        "early_first_member": early_members,
        "seconds": round(seconds, 1),
    }


def recordings(dataset, cases):
    """The cases' rows merged by time into recordings (split where rows stop for over an hour): [(times, columns)]."""
    header, rows = None, {}
    for case in cases:
        with open(os.path.join(dataset, case, "metrics.csv"), newline="") as f:
            table = list(csv.reader(f))
        if header is None:
            header = table[0]
        if table[0] != header:
            raise SystemExit(f"{case}: columns differ from the other cases; --timeline needs one recording")
        for row in table[1:]:
            if rows.setdefault(float(row[0]), row) != row:
                raise SystemExit(f"{case}: the row at {row[0]} differs from another case's; not one recording")
    ordered = sorted(rows)
    runs, run = [], [ordered[0]]
    for t in ordered[1:]:
        if t - run[-1] > 3600:
            runs.append(run)
            run = []
        run.append(t)
    runs.append(run)
    result = []
    for run in runs:
        columns = []
        for j, name in enumerate(header[1:], 1):
            service, _, metric = name.rpartition(".")
            values = [float(rows[t][j]) if j < len(rows[t]) and rows[t][j] != "" else None for t in run]
            columns.append((service or name, metric, values))
        result.append((run, columns))
    return result


def replay_timeline(vigil, dataset, labels, cases, chunk, warm_up=150):
    """Replays each stitched recording through one server; one result per fault (see the module's doc)."""
    results = []
    topology = os.path.join(dataset, cases[0], "topology.json")
    for times, columns in recordings(dataset, cases):
        faults = sorted(
            (fault_start(times, labels[c]["inject_time"]), c)
            for c in cases
            if times[0] <= labels[c]["inject_time"] <= times[-1]
        )
        with Server(vigil, topology) as server:
            # The rows before the first fault are the only fault-free part of a recording: whatever is an
            # incident once they are in opened before any fault.
            sent = next((i for i, t in enumerate(times) if t >= faults[0][0]), len(times)) if faults else 0
            server.send(times, columns, range(sent), chunk)
            early = server.incidents()
            if early:
                print(f"{len(early)} incidents opened before the recording's first fault", file=sys.stderr)
            known = {i["id"] for i in early}
            for index, (inject, case) in enumerate(faults):
                end = faults[index + 1][0] if index + 1 < len(faults) else times[-1] + 1
                upto = next((i for i, t in enumerate(times) if t >= end), len(times))
                server.send(times, columns, range(sent, upto), chunk)
                sent = upto
                everything = server.incidents()
                # New since the rows before this fault were in (a blip just before it that this fault's symptoms
                # joined is no earlier incident).
                incidents = [i for i in everything if i["id"] not in known]
                # Findings of the detectors in this fault's time, of any service and of the true root cause.
                findings = http(server.port, "GET", f"/api/v1/anomalies?from={inject}&to={end}&limit=10000")
                truth_findings = sum(1 for f in findings if f.get("service") == labels[case]["root_cause_service"])
                # Earlier incidents that took this fault's symptoms in (a new member, or a member firing again)
                # instead of opening a new one.
                absorbed = [
                    i for i in everything
                    if i["id"] in known and any(inject <= time_of(m["lastSeen"]) < end for m in i["members"])
                ]
                known = {i["id"] for i in everything}
                truth = labels[case]["root_cause_service"]
                top3 = [c["service"] for c in incidents[0]["rootCauses"][:3]] if len(incidents) == 1 else []
                row = next(i for i, t in enumerate(times) if t >= inject)
                results.append({
                    "case": case,
                    "fault": labels[case].get("fault"),
                    "truth": truth,
                    "row": row,
                    "warming_up": row < warm_up,
                    "incidents": len(incidents),
                    "absorbed_by": len(absorbed),
                    "findings": len(findings),
                    "root_cause_findings": truth_findings,
                    "symptoms": sum(i["symptomCount"] for i in incidents),
                    "top3": top3,
                    "met": len(incidents) == 1 and truth in top3,
                })
                print(
                    f"{case} (row {row}{', warm-up' if row < warm_up else ''}): {len(incidents)} incidents"
                    f"{f' ({len(absorbed)} earlier took symptoms in)' if absorbed else ''}, "
                    f"{len(findings)} findings ({truth_findings} of the root cause), "
                    f"top-3 {top3} (truth {truth}) {'MET' if results[-1]['met'] else 'missed'}",
                    file=sys.stderr,
                    flush=True,
                )
    return results


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
    parser.add_argument("--timeline", action="store_true", help="stitch each dataset's cases into its recording")
    options = parser.parse_args()
    results = []
    if options.timeline:
        for dataset in options.datasets:
            labels = json.load(open(os.path.join(dataset, "labels.json")))
            cases = sorted(c for c in labels if os.path.isdir(os.path.join(dataset, c)))
            results += replay_timeline(options.vigil, dataset, labels, cases, options.chunk)
        warm = [r for r in results if not r["warming_up"]]
        print(f"{'faults':>6s} {'after warm-up':>13s} {'met':>5s} {'share':>6s} {'1 incident':>10s} "
              f"{'symptoms/incident':>17s}")
        incidents = sum(r["incidents"] for r in warm)
        print(f"{len(results):6d} {len(warm):13d} {sum(r['met'] for r in warm):5d} "
              f"{(sum(r['met'] for r in warm) / len(warm) if warm else 0):6.2f} "
              f"{sum(r['incidents'] == 1 for r in warm):10d} "
              f"{(sum(r['symptoms'] for r in warm) / incidents if incidents else 0):17.1f}")
        if options.json:
            json.dump(results, open(options.json, "w"), indent=1)
        return
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
                f"{result['incidents_after_fault']} after the fault"
                f"{' (its first member came before it)' if result['early_first_member'] else ''}, "
                f"{result['symptoms']} symptoms, "
                f"top-3 {result['top3']} (truth {result['truth']}) {'MET' if result['met'] else 'missed'}",
                file=sys.stderr,
                flush=True,
            )
    print(f"{'dataset':10s} {'cases':>5s} {'met':>5s} {'share':>6s} {'1 incident':>10s} {'quiet before':>12s} "
          f"{'symptoms/incident':>17s} {'chain from root':>15s}")
    for dataset in sorted({r["dataset"] for r in results}):
        group = [r for r in results if r["dataset"] == dataset]
        incidents = sum(r["incidents_before_fault"] + r["incidents_after_fault"] for r in group)
        symptoms = sum(r["symptoms"] for r in group)
        print(
            f"{dataset:10s} {len(group):5d} {sum(r['met'] for r in group):5d} "
            f"{sum(r['met'] for r in group) / len(group):6.2f} "
            f"{sum(r['incidents_after_fault'] == 1 for r in group):10d} "
            f"{sum(r['incidents_before_fault'] == 0 for r in group):12d} "
            f"{(symptoms / incidents if incidents else 0):17.1f} "
            f"{sum(bool(r['impact_chain']) and r['impact_chain'][0] == r['top3'][0] for r in group):15d}"
        )
    if options.json:
        json.dump(results, open(options.json, "w"), indent=1)


if __name__ == "__main__":
    main()
