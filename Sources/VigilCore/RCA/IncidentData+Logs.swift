// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

extension IncidentData {
    /// One application log line of an incident, as a case's logs.jsonl holds it.
    public struct CaseLogLine: Sendable, Equatable {
        /// When it was written, in Unix seconds.
        public var time: Double
        public var service: String
        /// The raw line's UTF-8 bytes, in whatever format the service writes.
        public var bytes: [UInt8]

        /// The raw line.
        public var line: String { String(decoding: self.bytes, as: UTF8.self) }

        /// Creates a line.
        public init(time: Double, service: String, line: String) {
            self.init(time: time, service: service, bytes: Array(line.utf8))
        }

        /// Creates a line from its bytes, as a reader takes them from a file.
        public init(time: Double, service: String, bytes: [UInt8]) {
            self.time = time
            self.service = service
            self.bytes = bytes
        }
    }

    /// A log template behind a service's error or new-template lines: what a person reads to see what broke
    /// (personal data and secrets masked).
    public struct LogTemplate: Sendable, Equatable {
        /// The template, `<*>` marking each variable.
        public var text: String
        /// Whether its lines are at error level.
        public var isError: Bool
        /// Whether it was first written after the service's first minute of logs.
        public var isNew: Bool
        /// Its lines per row, for the rows that have any.
        public var lines: [Int: Int]

        /// Lines from `row` on.
        public func lines(from row: Int) -> Int {
            self.lines.reduce(0) { $0 + ($1.key >= row ? $1.value : 0) }
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
    static let eventCounts: Set<String> = [
        LogMetric.errorLines, LogMetric.newTemplateLines, SpanMetric.errors, SpanMetric.unanswered,
    ]
    /// Every column that logs and spans add. Logs and spans often cover only a minute before an incident, so one
    /// reference row is enough for them, where a metric needs two.
    static let evidenceMetrics: Set<String> = eventCounts.union([
        SpanMetric.latency, SpanMetric.selfTime, SpanMetric.network,
    ])

    /// How many lines of a service are sampled to detect its log format.
    static let formatSample = 64
    /// How long a service's logs only teach templates before a new one counts, in seconds.
    static let templateWarmUp = 60.0
    /// How many error or new templates a service keeps as evidence (the most frequent).
    static let keptTemplates = 20

    /// Adds what logs show, per service and row, as columns: error lines and lines of never-seen templates.
    /// Rows no log line fell in stay missing (logs may cover only part of the window); a covered row where a
    /// service wrote nothing counts 0. A stack frame or `Caused by:` is part of the line before it, not a line of
    /// its own. Each service's format is detected from its first lines and its templates are mined Drain-style, so
    /// any line format works; a line counts as new when its template is. The same as ``logsByService(_:)``, then
    /// ``ServiceLogs/evidence(times:)`` for each service, then ``add(_:)``, which callers may spread over cores.
    public mutating func addLogs(_ lines: [CaseLogLine]) {
        let grouped = self.logsByService(lines)
        self.add(grouped.map { $0.evidence(times: self.times) })
    }

    /// One service's log lines on the incident's rows, and which rows any service's lines reached.
    public struct ServiceLogs: Sendable {
        public var service: String
        var lines: [(row: Int, time: Double, bytes: [UInt8])]
        /// Rows any line of any service fell in.
        var covered: [Bool]

        /// How many lines the service wrote.
        public var count: Int { self.lines.count }
    }

    /// What one service's logs show: its two evidence columns and its error and never-seen templates.
    public struct LogEvidence: Sendable {
        var service: String
        var columns: [Column]
        var templates: [LogTemplate]
    }

    /// The lines of `lines` that fall on the incident's rows, per service in name order.
    public func logsByService(_ lines: [CaseLogLine]) -> [ServiceLogs] {
        self.logsByService(chunks: [lines])
    }

    /// ``logsByService(_:)`` of the lines of `chunks` in order (a file's chunks, not copied into one array).
    public func logsByService(chunks: [[CaseLogLine]]) -> [ServiceLogs] {
        guard !self.times.isEmpty else { return [] }
        var covered = [Bool](repeating: false, count: self.times.count)
        var byService: [String: [(row: Int, time: Double, bytes: [UInt8])]] = [:]
        for line in chunks.joined() {
            guard let row = self.row(at: line.time) else { continue }
            covered[row] = true
            byService[line.service, default: []].append((row, line.time, line.bytes))
        }
        return byService.keys.sorted().map { ServiceLogs(service: $0, lines: byService[$0]!, covered: covered) }
    }

    /// Adds the evidence of each service, in the order given.
    public mutating func add(_ evidence: [LogEvidence]) {
        for found in evidence {
            self.note(service: found.service)
            self.logTemplates[found.service] = found.templates
            self.columns += found.columns
        }
    }
}

extension IncidentData.ServiceLogs {
    /// Mines the service's templates and counts its error and never-seen lines per row of `times`. Pure: the
    /// services of one incident may be analysed at the same time.
    public func evidence(times: [Double]) -> IncidentData.LogEvidence {
        typealias Data = IncidentData
        let rows = times.count
        let step = rows > 1 ? (times[rows - 1] - times[0]) / Double(rows - 1) : 1
        let format = LogFormat.detect(sample: self.lines.prefix(Data.formatSample).map(\.bytes))
        let reader = LogRecordReader(format: format)
        var miner = TemplateMiner()
        /// Per group serial: 1 once seen, 2 when first written after the warm-up (a code path the reference never
        /// took, unless its template turns out to be one the warm-up wrote). Serials count up from 0, so an array
        /// indexed by them costs no hashing per line.
        var seen: [UInt8] = []
        var errorLines = [Double](repeating: 0, count: rows)
        /// The lines that may be evidence (at error level, or after the warm-up): which is new is known only once
        /// every line has been mined.
        var candidates: [(row: Int32, serial: UInt32, isError: Bool)] = []
        let learnUntil = (self.lines.first?.time ?? 0) + max(Data.templateWarmUp, step)
        for (number, entry) in self.lines.enumerated() {
            let bytes = entry.bytes.span
            // A stack frame or `Caused by:` is a line of the record before it (the lines of a record come one by
            // one): its error was counted there, and a frame is no template of its own.
            if number > 0 && MultilineRule.isContinuation(bytes) { continue }
            let severity: Severity
            let group: TemplateMiner.GroupID
            // Text headers give the message's bytes as they are; other formats build it.
            if let lean = reader.severityAndMessageStart(of: bytes) {
                severity = lean.severity
                group = miner.add(bytes.extracting(lean.messageStart..<bytes.count), severity: severity)
            } else {
                let record =
                    reader.record(from: bytes, lineNumber: number + 1)
                    ?? reader.fallbackRecord(from: bytes, lineNumber: number + 1)
                severity = record.severity
                group = miner.add(record.message, severity: severity)
            }
            if severity.isError { errorLines[entry.row] += 1 }
            let serial = Int(group.serial)
            if serial >= seen.count { seen += repeatElement(0, count: max(serial + 1 - seen.count, seen.count)) }
            if seen[serial] == 0 { seen[serial] = entry.time >= learnUntil ? 2 : 1 }
            if severity.isError || (seen[serial] == 2 && times[entry.row] >= learnUntil) {
                candidates.append((Int32(entry.row), group.serial, severity.isError))
            }
        }
        // A shape first written late is new only if its template is: a variable the masker missed (a user name,
        // `user277`) makes a shape per value, and the mining, once it has seen them all, makes them one template
        // that the warm-up wrote too.
        miner.consolidate()
        let templateOf = seen.indices.map { miner.templateNumber(of: .init(serial: UInt32($0))) }
        var learntTemplates: Set<Int> = []
        for serial in seen.indices where seen[serial] == 1 {
            if let number = templateOf[serial] { learntTemplates.insert(number) }
        }
        /// Per group serial: whether its template is one the warm-up never wrote.
        let newTemplate = seen.indices.map { seen[$0] == 2 && !(templateOf[$0].map(learntTemplates.contains) ?? false) }
        var newLines = [Double](repeating: 0, count: rows)
        /// Lines per row of the error and new templates.
        var evidence: [UInt32: (isError: Bool, isNew: Bool, lines: [Int: Int])] = [:]
        for (row, serial, isError) in candidates {
            let isNew = newTemplate[Int(serial)] && times[Int(row)] >= learnUntil
            guard isError || isNew else { continue }
            if isNew { newLines[Int(row)] += 1 }
            // Changed in place: a copy of the entry would copy its table of rows on every line.
            evidence[serial, default: (false, false, [:])].lines[Int(row), default: 0] += 1
            if isError { evidence[serial]!.isError = true }
            if isNew { evidence[serial]!.isNew = true }
        }
        // Groups the miner widened into one template add up under it.
        let masker = PIIMasker()
        var templates: [String: Data.LogTemplate] = [:]
        for (serial, found) in evidence {
            // Shown to people (and maybe an LLM): personal data and secrets stay masked.
            guard let text = miner.templateText(of: .init(serial: serial)).map(masker.mask) else { continue }
            var template = templates[text] ?? Data.LogTemplate(text: text, isError: false, isNew: false, lines: [:])
            template.isError = template.isError || found.isError
            template.isNew = template.isNew || found.isNew
            template.lines.merge(found.lines, uniquingKeysWith: +)
            templates[text] = template
        }
        let kept = templates.values.sorted {
            let (a, b) = ($0.lines.values.reduce(0, +), $1.lines.values.reduce(0, +))
            return a != b ? a > b : $0.text < $1.text
        }
        let covered = self.covered
        return Data.LogEvidence(
            service: self.service,
            columns: [
                Data.Column(
                    service: self.service,
                    metric: Data.LogMetric.errorLines,
                    values: (0..<rows).map { covered[$0] ? errorLines[$0] : nil }
                ),
                Data.Column(
                    service: self.service,
                    metric: Data.LogMetric.newTemplateLines,
                    values: (0..<rows).map { covered[$0] && times[$0] >= learnUntil ? newLines[$0] : nil }
                ),
            ],
            templates: Array(kept.prefix(Data.keptTemplates))
        )
    }
}
