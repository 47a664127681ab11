#!/usr/bin/env python3
"""Writes a synthetic RCA case folder the size of an RCAEval Train-Ticket case, for timing `vigil rca`.

    python3 scripts/make_rca_case.py OUT [--services 40] [--metrics 20] [--rows 1200]
                                         [--spans 800000] [--logs 267000] [--seed 1]
    /usr/bin/time -v .build/release/vigil rca OUT --output json > /dev/null

The case follows ../shared/eval/RCA_CASES.md: metrics.csv (services x metrics columns, one row per second),
topology.json (a layered call graph), spans.jsonl (traces walking the graph) and logs.jsonl (a dozen templates
per service with variable fields). At 75 % of the window one service slows down and starts logging errors; its
name is printed on stderr. Only the size and shape matter here; accuracy is measured on the real datasets.
"""

import argparse
import json
import math
import os
import random
import sys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--metrics", type=int, default=20, help="metric columns per service")
    parser.add_argument("--rows", type=int, default=1200, help="one-second rows")
    parser.add_argument("--spans", type=int, default=800_000)
    parser.add_argument("--logs", type=int, default=267_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)

    services = [f"ts-{name}-service" for name in word_list(args.services, rng)]
    calls = []
    for index, service in enumerate(services[1:], start=1):
        for parent in rng.sample(services[:index], k=min(index, rng.choice([1, 1, 2]))):
            calls.append([parent, service])
    callees = {service: [] for service in services}
    for caller, callee in calls:
        callees[caller].append(callee)
    culprit = services[len(services) // 2]
    start = 1_674_982_200.0
    fault_row = args.rows * 3 // 4
    print(f"root cause: {culprit} from row {fault_row}", file=sys.stderr)

    with open(os.path.join(args.out, "topology.json"), "w") as file:
        json.dump({"services": services, "calls": calls}, file)

    names = ["cpu", "mem", "latency_p50", "latency_p90", "latency_p99", "requests", "errors", "net_rx", "net_tx",
             "threads", "gc_pause", "disk_io", "sockets", "queue", "heap", "conn_pool", "retries", "cache_hit",
             "io_wait", "fds"]
    columns = [(service, f"{names[m % len(names)]}{m // len(names) or ''}")
               for service in services for m in range(args.metrics)]
    with open(os.path.join(args.out, "metrics.csv"), "w") as file:
        file.write("time," + ",".join(f"{s}.{m}" for s, m in columns) + "\n")
        levels = [rng.uniform(1, 1000) for _ in columns]
        for row in range(args.rows):
            cells = [f"{start + row:.0f}"]
            for (service, metric), level in zip(columns, levels):
                value = level * (1 + 0.05 * math.sin(row / 60) + rng.gauss(0, 0.03))
                if service == culprit and row >= fault_row and metric.startswith("latency"):
                    value *= 4
                cells.append("" if rng.random() < 0.002 else f"{value:.6g}")
            file.write(",".join(cells) + "\n")

    operations = {service: [f"/api/v1/{service[3:-8]}/{verb}" for verb in ("get", "list", "create", "update")]
                  for service in services}
    with open(os.path.join(args.out, "spans.jsonl"), "w") as file:
        written = 0
        trace = 0
        while written < args.spans:
            trace += 1
            begin = start + args.rows * written / args.spans
            trace_id = f"{rng.getrandbits(128):032x}"
            stack = [(services[0], None, begin)]
            while stack and written < args.spans:
                service, parent, at = stack.pop()
                span_id = f"{rng.getrandbits(64):016x}"
                slow = service == culprit and at >= start + fault_row
                duration = rng.lognormvariate(2, 0.5) * (4 if slow else 1)
                span = {"trace_id": trace_id, "span_id": span_id, "parent_id": parent, "service": service,
                        "operation": rng.choice(operations[service]), "start": round(at, 6),
                        "duration_ms": round(duration, 3), "error": slow and rng.random() < 0.3}
                file.write(json.dumps(span) + "\n")
                written += 1
                for callee in callees[service]:
                    if rng.random() < 0.6:
                        stack.append((callee, span_id, at + 0.001))

    templates = ["Login request of username: {user}", "Query order {uuid} in {ms} ms", "Cache miss for key {key}",
                 "Connection pool size {n} active {n}", "Sending message to queue {key} size {n}",
                 "User {user} booked ticket {uuid} from {city} to {city}", "GC pause {ms} ms heap {n} MB",
                 "Request {uuid} completed status {status} in {ms} ms", "Retrying call to {host} attempt {n}",
                 "Config reloaded from {path}", "Scheduled job {key} finished in {ms} ms",
                 "Price of route {city}-{city} is {price}"]
    errors = ["ERROR Timeout calling {host} after {ms} ms", "ERROR java.sql.SQLException: Connection refused {host}"]

    def fill(template: str) -> str:
        return template.format_map(Filler(rng))

    with open(os.path.join(args.out, "logs.jsonl"), "w") as file:
        for index in range(args.logs):
            at = start + args.rows * index / args.logs
            service = rng.choice(services)
            failing = service == culprit and at >= start + fault_row and rng.random() < 0.4
            text = fill(rng.choice(errors)) if failing else "INFO  " + fill(rng.choice(templates))
            clock = f"{int(at) % 86400 // 3600:02d}:{int(at) % 3600 // 60:02d}:{at % 60:06.3f}"
            line = f"{clock} {text[:5]} c.t.{service[3:-8]}.Controller#{rng.randint(10, 99)} {text[6:]}"
            file.write(json.dumps({"time": round(at, 6), "service": service, "line": line}) + "\n")


class Filler(dict):
    """Random values for the fields of a log template."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        rng = self.rng
        return {
            "user": lambda: f"user_{rng.randint(1, 5000)}",
            "uuid": lambda: f"{rng.getrandbits(128):032x}",
            "ms": lambda: str(rng.randint(1, 900)),
            "key": lambda: f"k{rng.randint(1, 100000)}",
            "n": lambda: str(rng.randint(1, 64)),
            "city": lambda: rng.choice(["Shanghai", "Beijing", "Nanjing", "Suzhou", "Taiyuan"]),
            "status": lambda: rng.choice(["200", "201", "404", "500"]),
            "host": lambda: f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}:8080",
            "path": lambda: f"/etc/app/{rng.randint(1, 9)}.yaml",
            "price": lambda: f"{rng.uniform(10, 900):.2f}",
        }[key]()


def word_list(count: int, rng: random.Random) -> list[str]:
    stems = ["auth", "user", "order", "route", "travel", "ticket", "seat", "station", "train", "price", "config",
             "security", "contacts", "payment", "inside-payment", "food", "consign", "assurance", "cancel", "rebook",
             "notification", "preserve", "basic", "verification-code", "admin-order", "admin-route", "execute",
             "delivery", "voucher", "news", "avatar", "wait-order", "gateway", "ui-dashboard", "travel2", "order-other",
             "route-plan", "travel-plan", "food-delivery", "station-food", "train-food", "consign-price"]
    words = stems[:count] if count <= len(stems) else stems + [f"svc{i}" for i in range(count - len(stems))]
    return ["gateway"] + [w for w in words if w != "gateway"][: count - 1]


if __name__ == "__main__":
    main()
