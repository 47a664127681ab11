// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Prometheus
import Synchronization
import VigilCore
import VigilStorage

/// Vigil's own metrics on `/metrics`: ingest counts, queue depth, write-ahead log size, acknowledgement latency.
final class ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let accepted: [String: Gauge]
    private let processed: [String: Gauge]
    private let rejected: [String: Gauge]
    private let inFlight: Gauge
    private let walBytes: Gauge
    private let leads: Gauge
    /// How alerts and findings were grouped into incidents (GET /api/v1/stats' `incidents`).
    private let incidents: Gauge
    private let openIncidents: Gauge
    private let symptoms: Gauge
    private let groupedSymptoms: Gauge
    private let ignoredSymptoms: Gauge
    private let latency: [String: DurationHistogram]
    private let stages: [String: DurationHistogram]

    init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        let kinds = ["logs", "samples", "spans", "changes", "alerts"]
        func gauges(_ name: String, _ help: String) -> [String: Gauge] {
            Dictionary(
                uniqueKeysWithValues: kinds.map {
                    (
                        $0,
                        registry.makeGauge(
                            descriptor: .init(metricName: name, unitName: "", helpText: help),
                            labels: [("kind", $0)]
                        )
                    )
                }
            )
        }
        self.accepted = gauges("vigil_ingest_accepted_total", "Signals acknowledged (durable in the write-ahead log)")
        self.processed = gauges("vigil_ingest_processed_total", "Signals the pipeline has processed")
        self.rejected = gauges("vigil_ingest_rejected_total", "Signals refused: malformed, too large or overload")
        self.inFlight = registry.makeGauge(
            descriptor: .init(
                metricName: "vigil_pipeline_in_flight",
                unitName: "",
                helpText: "Signals accepted, not yet processed"
            )
        )
        self.walBytes = registry.makeGauge(
            descriptor: .init(
                metricName: "vigil_wal_bytes",
                unitName: "",
                helpText: "Bytes held by the write-ahead log"
            )
        )
        self.leads = registry.makeGauge(
            descriptor: .init(
                metricName: "vigil_leader",
                unitName: "",
                helpText:
                    "1 while this server notifies about incidents and remediates (always alone; one worker of a shared store)"
            )
        )
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: .init(metricName: name, unitName: "", helpText: help))
        }
        self.incidents = gauge("vigil_incidents", "Incidents the correlator holds, open, mitigated or resolved")
        self.openIncidents = gauge("vigil_incidents_open", "Incidents open now")
        self.symptoms = gauge("vigil_incident_symptoms", "Alert firings and findings the correlator keeps")
        self.groupedSymptoms = gauge("vigil_incident_symptoms_grouped", "Of those, members of an incident")
        self.ignoredSymptoms = gauge(
            "vigil_incident_symptoms_ignored_total",
            "Alert firings and findings an incidents.rules entry ignored"
        )
        let buckets: [Duration] = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5),
        ]
        self.stages = Dictionary(
            uniqueKeysWithValues: ["decode", "wal", "shard", "store"].map {
                (
                    $0,
                    registry.makeDurationHistogram(
                        descriptor: .init(
                            metricName: "vigil_stage_seconds",
                            unitName: "",
                            helpText:
                                "Time per pass of a pipeline stage: decode (a request), wal (an append until durable), shard (a batch), store (a write transaction)"
                        ),
                        labels: [("stage", $0)],
                        buckets: buckets
                    )
                )
            }
        )
        self.latency = Dictionary(
            uniqueKeysWithValues: kinds.map {
                (
                    $0,
                    registry.makeDurationHistogram(
                        descriptor: .init(
                            metricName: "vigil_ingest_ack_seconds",
                            unitName: "",
                            helpText: "Time from request to acknowledgement"
                        ),
                        labels: [("kind", $0)],
                        buckets: buckets
                    )
                )
            }
        )
    }

    /// Records how long one pass of a pipeline stage took: `decode`, `wal`, `shard`, `store`.
    func stage(_ name: String, _ duration: Duration) {
        self.stages[name]?.record(duration)
    }

    func acknowledged(kind: String, since start: ContinuousClock.Instant) {
        self.latency[kind]?.record(ContinuousClock.now - start)
    }

    func update(from pipeline: Pipeline) {
        let counters = pipeline.counters.value
        for (kind, counts) in [
            ("logs", counters.logs), ("samples", counters.samples), ("spans", counters.spans),
            ("changes", counters.changes), ("alerts", counters.alerts),
        ] {
            self.accepted[kind]?.set(Double(counts.accepted))
            self.processed[kind]?.set(Double(counts.processed))
            self.rejected[kind]?.set(Double(counts.rejected))
        }
        self.inFlight.set(Double(pipeline.counters.inFlight))
        self.walBytes.set(Double(pipeline.wal.totalBytes))
        self.leads.set(pipeline.mayAct ? 1.0 : 0.0)
        let grouping = pipeline.incidents.grouping()
        self.incidents.set(Double(grouping.incidents))
        self.openIncidents.set(Double(grouping.open))
        self.symptoms.set(Double(grouping.symptoms))
        self.groupedSymptoms.set(Double(grouping.grouped))
        self.ignoredSymptoms.set(Double(grouping.ignored))
    }
}
