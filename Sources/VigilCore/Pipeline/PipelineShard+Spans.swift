// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

extension PipelineShard {
    /// Joins spans into service-graph edges (the pipeline sends a trace's spans to one shard); minutes that
    /// closed are appended to `edges`.
    public mutating func join(_ spans: [TraceSpan], edges: inout [ServiceGraph.EdgeMinute]) {
        self.graph.add(spans, closed: &edges)
        self.processedSpans += spans.count
    }

    /// Measures each service's requests from its spans (the pipeline sends a service's spans to one shard);
    /// the per-minute series that closed go through the metric detectors and are appended to `points`.
    public mutating func measure(_ spans: [TraceSpan], points: inout [MetricPoint], findings: inout [Anomaly]) {
        var closed: [MetricPoint] = []
        self.spanMetrics.add(spans, points: &closed)
        self.derive(closed, points: &points, findings: &findings)
    }

    /// Counts a quiet tick for the span minutes: once spans stop, open minutes are reported.
    public mutating func tickSpans(
        edges: inout [ServiceGraph.EdgeMinute],
        points: inout [MetricPoint],
        findings: inout [Anomaly]
    ) {
        self.graph.tick(closed: &edges)
        var closed: [MetricPoint] = []
        self.spanMetrics.tick(points: &closed)
        self.derive(closed, points: &points, findings: &findings)
    }

    private mutating func derive(_ closed: [MetricPoint], points: inout [MetricPoint], findings: inout [Anomaly]) {
        guard !closed.isEmpty else { return }
        let samples = self.processedSamples
        self.process(closed, findings: &findings)
        self.processedSamples = samples
        points += closed
    }
}
