// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

extension IncidentData {
    /// One application log line of an incident, as a case's logs.jsonl holds it.
    public struct CaseLogLine: Sendable, Equatable {
        /// When it was written, in Unix seconds.
        public var time: Double
        public var service: String
        /// The raw line, in whatever format the service writes.
        public var line: String

        /// Creates a line.
        public init(time: Double, service: String, line: String) {
            self.time = time
            self.service = service
            self.line = line
        }
    }

    /// The metric names the log evidence uses, one column per service that logs.
    public enum LogMetric {
        /// Lines at error level or above (or naming an exception when the level is unknown).
        public static let errorLines = "log_error_lines"
        /// Lines of templates the service first wrote after its first minute of logs (at least one row), every
        /// time they recur: a code path the normal part never took. That first minute only teaches templates and
        /// stays missing.
        public static let newTemplateLines = "log_new_template_lines"
    }

    /// The evidence columns that count events, so the ranker scales them as counts.
    static let eventCounts: Set<String> = [LogMetric.errorLines, LogMetric.newTemplateLines, SpanMetric.errors]
    /// Every column that logs and spans add. Logs and spans often cover only a minute before an incident, so one
    /// reference row is enough for them, where a metric needs two.
    static let evidenceMetrics: Set<String> = eventCounts.union([
        SpanMetric.latency, SpanMetric.selfTime, SpanMetric.network,
    ])

    /// How many lines of a service are sampled to detect its log format.
    static let formatSample = 64
    /// How long a service's logs only teach templates before a new one counts, in seconds.
    static let templateWarmUp = 60.0

    /// Adds what logs show, per service and row, as columns: error lines and lines of never-seen templates.
    /// Rows no log line fell in stay missing (logs may cover only part of the window); a covered row where a
    /// service wrote nothing counts 0. Each service's format is detected from its first lines and its templates
    /// are mined Drain-style, so any line format works.
    public mutating func addLogs(_ lines: [CaseLogLine]) {
        guard !lines.isEmpty, !self.times.isEmpty else { return }
        let rows = self.times.count
        var covered = [Bool](repeating: false, count: rows)
        var byService: [String: [(row: Int, time: Double, bytes: [UInt8])]] = [:]
        for line in lines {
            guard let row = self.row(at: line.time) else { continue }
            covered[row] = true
            byService[line.service, default: []].append((row, line.time, Array(line.line.utf8)))
        }
        let step = rows > 1 ? (self.times[rows - 1] - self.times[0]) / Double(rows - 1) : 1
        for service in byService.keys.sorted() {
            let written = byService[service, default: []]
            let format = LogFormat.detect(sample: written.prefix(Self.formatSample).map(\.bytes))
            let reader = LogRecordReader(format: format)
            var miner = TemplateMiner()
            var seen: Set<TemplateMiner.GroupID> = []
            /// Templates first written after the warm-up: a code path the reference never took.
            var novel: Set<TemplateMiner.GroupID> = []
            var errorLines = [Double](repeating: 0, count: rows)
            var newLines = [Double](repeating: 0, count: rows)
            let learnUntil = (written.first?.time ?? 0) + max(Self.templateWarmUp, step)
            for (number, entry) in written.enumerated() {
                let bytes = entry.bytes.span
                let record =
                    reader.record(from: bytes, lineNumber: number + 1)
                    ?? reader.fallbackRecord(from: bytes, lineNumber: number + 1)
                if record.severity.isError { errorLines[entry.row] += 1 }
                let group = miner.add(record.message, severity: record.severity)
                if seen.insert(group).inserted && entry.time >= learnUntil { novel.insert(group) }
                if novel.contains(group) && self.times[entry.row] >= learnUntil { newLines[entry.row] += 1 }
            }
            self.note(service: service)
            self.columns.append(
                Column(
                    service: service,
                    metric: LogMetric.errorLines,
                    values: (0..<rows).map { covered[$0] ? errorLines[$0] : nil }
                )
            )
            self.columns.append(
                Column(
                    service: service,
                    metric: LogMetric.newTemplateLines,
                    values: (0..<rows).map { covered[$0] && self.times[$0] >= learnUntil ? newLines[$0] : nil }
                )
            )
        }
    }
}
