// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import VigilCore
import VigilIngest

/// `vigil rca`: ranks the root-cause candidates of one incident case folder.
struct RCA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rca",
        abstract: "Rank the likely root causes of an incident from its metrics, logs, traces and call graph.",
        discussion: """
            CASEDIR holds metrics.csv (time,<service>.<metric>,…), and optionally topology.json \
            ({"services": [...], "calls": [[caller, callee], ...]}), logs.jsonl ({"time", "service", "line"} per \
            line), spans.jsonl ({"trace_id", "span_id", "parent_id", "service", "start", "duration_ms", "error", \
            and "operation" if known} per line) and hint.json ({"alert_time": unix seconds}). Without an alert time (--alert-time, else \
            hint.json) the incident onset is found in the data (the row where most metrics change and hold the \
            change for three rows or more); with it, the onset is a clear change in the five minutes before the \
            alert (alerts come late), else the start of those five minutes (a short fault may be over when the \
            alert comes; at most half the rows before the alert are given up), and the 30 minutes after the onset \
            are judged. Either way, when nothing moves more than three spreads from that onset (the incident was \
            a burst that came back, or the alert came long after it), the onset is the latest row before it from \
            which something does, keeping at least half the rows before it as the reference. An alert up to five \
            minutes after the last row is taken too (an export often ends before the page). When the window holds several incidents, give the alert time of the one to explain. The \
            format is described in ../shared/eval/RCA_CASES.md.

            Logs and spans become evidence on the metrics' rows: per service, error lines and lines of templates \
            never seen in its first minute of logs; span latency, own time, errors that started there (not \
            passed up from a callee), and network time (how long what the service sends takes to arrive: where \
            a network delay on it shows). Parent links add calls to the graph. Lines that are not valid JSON of \
            that shape are skipped, and metric cells that are not finite numbers read as missing, both counted on \
            stderr. A cumulative counter (a column named …_total, …_count, …_sum or …_bucket that never falls \
            but to restart from zero, or any column that never falls while rising on at least half of 20 or more \
            rows) is read as its increase per second and named rate(<metric>): its raw value only grows, and \
            would look like a change in the middle of any window.

            The report names the candidates with the metric behind each and a confidence: the candidate's \
            share of the evidence (its score to the power 1.5, over all candidates'; the confidences add up to \
            100 %). On the 174 labelled cases (onset found in the data), a first candidate at 80 % or more was \
            the root cause 98 times in 100, one below 60 % about 2 times in 3; below 80 %, the report says that \
            no candidate stands out. Then come the impact chain (the root cause, then each deviating caller the \
            fault reached), the timeline of first deviations (observed against the level before the onset), the \
            root cause's error and never-seen log templates since the onset, and the first thing to try, from \
            what moved. With an onset found in the data, it also names other times where many metrics changed \
            together (another incident, perhaps), each with the first candidate and its confidence that giving \
            its time as --alert-time would name; when the onset names no candidate that stands out and one of \
            those times names one at 80 % or more, that service ranks third (root_cause_of_other_change in \
            JSON), since a window often holds several incidents. --output json adds the same as root_cause, impact_chain, \
            timeline, log_evidence, action, action_reason, other_changes and onset_basis (change_in_data, \
            row_before_alert, change_before_alert, lead_before_alert) beside the ranking (each candidate with \
            its confidence), and quiet_onset when the onset was moved back from there.

            A service may be named without its own metrics moving: one whose metrics hold no value at all \
            (silent) ranks just below a caller whose errors or latency rose unexplained (silent_callee_of in \
            JSON); one that reported all along and stopped at the onset (crashed, killed, evicted, cut off) \
            ranks above every caller whose symptom it may explain (stopped_after: its last value's time); and a \
            callee whose callers' calls to it slowed while no callee's own metrics moved is suspected \
            of a network delay (slowed_callers). A span that failed with no child, whose operation reaches one \
            service in other traces, is a call that never reached it: it counts for that service \
            (span_unanswered_calls), not for the caller. A leaf of the graph whose latency, errors or \
            availability moved like a sibling's that has callees of its own (called beside it by the same \
            service) is taken for that sibling seen from the callers' side, a load balancer or URL in front of \
            it (view_of). A service whose CPU or memory moved is slow on its own account: its latency is no \
            callee's symptom unless that callee moved more than twice as far (slow_on_its_own names the callee \
            it spared, with both moves).

            Traffic, client-side latency and host metrics count less than a service's own: the report gives \
            their move as measured and what it counted for (spreads, weight and discount in JSON: traffic, \
            client_latency, host, or cluster for a host metric that moved on several services at once, with \
            moved_on_services).

            Examples:
              vigil rca incidents/2026-11-23-checkout
              vigil rca incidents/2026-11-23-checkout --output json | jq '.ranking[0]'
              vigil rca incidents/2026-11-23-checkout --alert-time 2026-11-23T14:32:10Z
            """
    )

    @Option(help: "text (a report) or json ({\"ranking\": [{\"service\", \"score\", \"confidence\"}, …], …}).")
    var output = "text"

    @Option(help: "How many candidates the text report lists.")
    var top = 5

    @Option(
        help: ArgumentHelp(
            "When the incident was noticed (you were paged): Unix seconds or ISO 8601 (2026-11-23T14:32:10Z); "
                + "overrides hint.json.",
            valueName: "time"
        )
    )
    var alertTime: String?

    @Argument(help: "The case folder.")
    var caseDirectory: String

    func validate() throws {
        guard ["text", "json"].contains(self.output) else { throw ValidationError("--output must be text or json") }
        if let text = self.alertTime, Self.seconds(text) == nil {
            throw ValidationError("--alert-time \"\(text.prefix(40))\" is not Unix seconds or an ISO 8601 time")
        }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: self.caseDirectory)
        let data = try Self.load(folder)
        let alertTime = try self.alertTime.flatMap(Self.seconds) ?? Self.hintedAlertTime(in: folder)
        // Each metric's change point and score as a job on every core.
        let ranker = RootCauseRanker { count, body in
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
        }
        let lead = ranker.configuration.alertLead
        if let alertTime, let first = data.times.first, let last = data.times.last {
            // The rows before the alert are the reference, and a clear change in the lead before it may be the
            // onset: an alert before the data explains nothing, and one that came later than the lead after the
            // last row cannot have seen anything in it. (An export often ends before the page comes.)
            guard alertTime > first, alertTime <= last + lead else {
                // Unix milliseconds read as seconds land some fifty thousand years on.
                if alertTime > 100 * max(1, last) {
                    throw CLIError(
                        "the alert time looks like Unix milliseconds; give Unix seconds "
                            + "(\(Format.number(alertTime / 1000))) or an ISO 8601 time"
                    )
                }
                throw CLIError(
                    "the alert time \(Timestamp(seconds: alertTime).iso8601) lies outside the metrics, which run from "
                        + "\(Timestamp(seconds: first).iso8601) to \(Timestamp(seconds: last).iso8601) "
                        + "(an alert may come up to \(DurationText.describe(lead)) after the last row)"
                )
            }
        }
        let result = ranker.rank(data, alertTime: alertTime)
        let explanation = RootCauseRanker.explain(result, of: data)
        var out = OutputStream()
        if self.output == "json" {
            let ranking: [[String: Any]] = result.candidates.map { candidate in
                var entry: [String: Any] = [
                    "service": candidate.service, "score": candidate.score, "confidence": candidate.confidence,
                ]
                if let metric = candidate.metric { entry["metric"] = metric }
                if let yielded = candidate.yieldedTo { entry["symptom_of"] = yielded }
                if candidate.yieldedAsView { entry["view_of"] = candidate.yieldedTo }
                if let caller = candidate.silentCalleeOf { entry["silent_callee_of"] = caller }
                if let last = candidate.stoppedAfter { entry["stopped_after"] = Timestamp(seconds: last).iso8601 }
                if let own = candidate.slowOnItsOwn {
                    entry["slow_on_its_own"] = [
                        "metric": own.metric, "spreads": own.spreads, "callee": own.callee,
                        "callee_spreads": own.calleeSpreads,
                    ]
                }
                if !candidate.slowedCallers.isEmpty { entry["slowed_callers"] = candidate.slowedCallers }
                if let other = candidate.otherChange {
                    entry["root_cause_of_other_change"] = ["time": other.time, "confidence": other.confidence]
                }
                if let first = candidate.firstDeviation { entry["first_deviation"] = first }
                if candidate.metric != nil {
                    entry["spreads"] = candidate.spreads
                    entry["weight"] = candidate.weight
                }
                switch candidate.discount {
                case .traffic: entry["discount"] = "traffic"
                case .clientLatency: entry["discount"] = "client_latency"
                case .host: entry["discount"] = "host"
                case .cluster(let services):
                    entry["discount"] = "cluster"
                    entry["moved_on_services"] = services
                case nil: break
                }
                return entry
            }
            let timeline: [[String: Any]] = explanation.timeline.map { step in
                [
                    "time": step.time, "service": step.service, "metric": step.metric, "observed": step.observed,
                    "expected": step.expected,
                ]
            }
            var object: [String: Any] = [
                "ranking": ranking, "onset": result.onset, "onset_detected": result.onsetDetected,
                "onset_basis": result.onsetBasis.rawValue,
                "impact_chain": explanation.impactChain, "timeline": timeline, "action": explanation.action,
                "action_reason": explanation.reason,
                "other_changes": result.otherChanges.map { change -> [String: Any] in
                    var entry: [String: Any] = ["time": change.time, "metrics": change.metrics]
                    if let root = change.rootCause {
                        entry["root_cause"] = root
                        entry["confidence"] = change.confidence
                    }
                    return entry
                },
            ]
            if let quiet = result.quietOnset { object["quiet_onset"] = quiet }
            if let root = explanation.rootCause { object["root_cause"] = root }
            if !explanation.logs.isEmpty {
                object["log_evidence"] = explanation.logs.map { log -> [String: Any] in
                    ["template": log.text, "lines": log.lines, "error": log.isError, "new": log.isNew]
                }
            }
            let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            out.write(String(decoding: json, as: UTF8.self) + "\n")
        } else {
            let onset = Timestamp(seconds: result.onset).iso8601
            let given = self.alertTime != nil ? "--alert-time" : "hint.json"
            let ahead = alertTime.map { DurationText.describe($0 - result.onset) } ?? ""
            let source =
                switch result.onsetBasis {
                case .changeInData: "found in the data"
                case .rowBeforeAlert: "from \(given)"
                case .changeBeforeAlert: "from \(given): metrics changed clearly \(ahead) before the alert"
                case .leadBeforeAlert:
                    "from \(given): nothing changed clearly in the \(DurationText.describe(lead)) before the alert, "
                        + "so those rows are judged, not taken as normal"
                }
            let moved =
                result.quietOnset.map {
                    "; nothing moved more than \(Int(RootCauseRanker.affected)) spreads from "
                        + "\(Timestamp(seconds: $0).iso8601), so the onset is the latest row before it from which "
                        + "something did"
                } ?? ""
            out.write("incident onset: \(onset) (\(source)\(moved))\n")
            if let alertTime, let last = data.times.last, alertTime > last {
                out.write("the alert came \(DurationText.describe(alertTime - last)) after the last row\n")
            }
            if !result.otherChanges.isEmpty {
                let others = result.otherChanges.map { change in
                    let root =
                        change.rootCause.map { "; points at \($0), \(VigilCore.Format.percent(change.confidence))" }
                        ?? ""
                    return "\(Timestamp(seconds: change.time).iso8601) (\(change.metrics) metrics\(root))"
                }
                out.write(
                    "other changes in this window: \(others.joined(separator: ", ")); "
                        + "to explain one, give its time as --alert-time\n"
                )
            }
            out.write("root-cause candidates:\n")
            for (index, candidate) in result.candidates.prefix(self.top).enumerated() {
                var line =
                    "  \(index + 1). \(candidate.service)  score \(String(format: "%.1f", candidate.score)), "
                    + "confidence \(VigilCore.Format.percent(candidate.confidence))"
                if let metric = candidate.metric {
                    line +=
                        "  (\(metric) moved \(String(format: "%.1f", candidate.spreads)) robust spreads from normal"
                    if let first = candidate.firstDeviation {
                        line += ", first at \(Timestamp(seconds: first).iso8601)"
                    }
                    if let note = candidate.discountNote { line += "; \(note)" }
                    line += ")"
                }
                if let yielded = candidate.yieldedTo {
                    line +=
                        candidate.yieldedAsView
                        ? "  likely \(yielded) seen from its callers' side (a load balancer or URL in front of it)"
                        : "  likely a symptom of \(yielded), which it calls"
                }
                if let own = candidate.slowOnItsOwn {
                    line +=
                        "  (slow on its own account: its \(own.metric) moved \(String(format: "%.1f", own.spreads)) spreads; "
                        + "\(own.callee), which it calls, \(String(format: "%.1f", own.calleeSpreads)): not twice as far)"
                }
                if !candidate.slowedCallers.isEmpty {
                    let callers = candidate.slowedCallers.joined(separator: ", ")
                    line += "  (calls to it from \(callers) slowed, and no callee's own metrics explain it)"
                }
                if let caller = candidate.silentCalleeOf {
                    line +=
                        "  (no data: its metrics hold no value, and \(caller), which calls it, has a symptom no callee with data explains)"
                }
                if let last = candidate.stoppedAfter {
                    line += "  (stopped reporting at the onset: its last value at \(Timestamp(seconds: last).iso8601))"
                }
                if let other = candidate.otherChange {
                    line +=
                        "  (ranked here as the root cause of the other change at \(Timestamp(seconds: other.time).iso8601), "
                        + "\(VigilCore.Format.percent(other.confidence)), in case that is the incident you mean)"
                }
                out.write(line + "\n")
            }
            if let first = result.candidates.first, first.confidence > 0, first.confidence < RootCauseRanker.standsOut {
                out.write(
                    "no candidate stands out (the first holds \(VigilCore.Format.percent(first.confidence)) of the evidence): "
                        + "weigh the first three\n"
                )
            }
            if explanation.impactChain.count > 1 {
                out.write("impact chain: \(explanation.impactChain.joined(separator: " → "))\n")
            }
            if !explanation.timeline.isEmpty {
                out.write("timeline of first deviations:\n")
                for step in explanation.timeline.prefix(self.top * 2) {
                    let observed = String(format: "%g", step.observed)
                    let expected = String(format: "%g", step.expected)
                    out.write(
                        "  \(Timestamp(seconds: step.time).iso8601)  \(step.service)  \(step.metric) \(observed) "
                            + "(normal \(expected))\n"
                    )
                }
            }
            if let root = explanation.rootCause, !explanation.logs.isEmpty {
                out.write("what \(root) logged since the onset:\n")
                for log in explanation.logs {
                    let kind = [log.isError ? "error" : nil, log.isNew ? "never seen before" : nil]
                        .compactMap { $0 }.joined(separator: ", ")
                    out.write("  \(VigilCore.Format.count(log.lines, "line")), \(kind): \(log.text)\n")
                }
            }
            out.write("try first: \(explanation.action)\n  because \(explanation.reason)\n")
        }
        out.flush()
    }

    /// `text` as Unix seconds (a plain number) or any timestamp ``TimestampParser`` reads.
    static func seconds(_ text: String) -> Double? {
        if let seconds = Double(text), seconds.isFinite { return seconds }
        let bytes = Array(text.utf8)
        return TimestampParser.parse(bytes.span).map(\.seconds)
    }

    /// The alert time in the case's hint.json, or nil when there is no hint.json or it names none (unknown keys
    /// are ignored). A hint.json that is not a JSON object, or whose alert_time is not a number, is an error, not
    /// a silent blind run.
    static func hintedAlertTime(in folder: URL) throws -> Double? {
        let url = folder.appendingPathComponent("hint.json")
        guard let hint = try? Data(contentsOf: url) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: hint) as? [String: Any] else {
            throw CLIError("\(url.path): expected a JSON object such as {\"alert_time\": 1700000400}")
        }
        guard let value = object["alert_time"] else { return nil }
        guard let number = value as? NSNumber, number.doubleValue.isFinite else {
            throw CLIError("\(url.path): alert_time must be a number of Unix seconds")
        }
        return number.doubleValue
    }

    /// Reads metrics.csv and topology.json of a case folder.
    static func load(_ folder: URL) throws -> IncidentData {
        let logs = JSONLinesFile(
            folder,
            "logs.jsonl",
            what: "a log line",
            keys: ["time", .interned("service"), .bytes("line")]
        ) {
            fields -> IncidentData.CaseLogLine? in
            guard let time = fields[0]?.double, let service = fields[1]?.string, case .bytes(let line) = fields[2]
            else { return nil }
            return IncidentData.CaseLogLine(time: time, service: service, bytes: line)
        }
        let spans = JSONLinesFile(
            folder,
            "spans.jsonl",
            what: "a span",
            keys: [
                .fingerprint("trace_id"), .fingerprint("span_id"), .fingerprint("parent_id"), .interned("service"),
                "start", "duration_ms", "error", .fingerprint("operation"),
            ]
        ) { fields -> IncidentData.CaseSpan? in
            // IDs are only ever matched, so they are hashed straight from the bytes, never made strings.
            guard case .fingerprint(let trace, _) = fields[0], case .fingerprint(let id, _) = fields[1],
                let service = fields[3]?.string, let start = fields[4]?.double, let milliseconds = fields[5]?.double,
                start.isFinite, milliseconds.isFinite
            else { return nil }
            var parent: UInt64?
            if case .fingerprint(let hash, let length) = fields[2], length > 0 { parent = hash }
            var failed: Bool?
            if case .bool(let flag) = fields[6] { failed = flag }
            var operation: UInt64?
            if case .fingerprint(let hash, let length) = fields[7], length > 0 { operation = hash }
            return IncidentData.CaseSpan(
                traceHash: trace,
                spanHash: id,
                parentHash: parent,
                service: service,
                start: start,
                seconds: max(0, milliseconds / 1000),
                isError: failed,
                operationHash: operation
            )
        }
        // metrics.csv is parsed beside the first chunks of the others.
        let metrics = MetricsFile(folder.appendingPathComponent("metrics.csv").path)
        try readAll([metrics, logs, spans])
        let (header, times, values, unreadable) = try metrics.table()
        guard header.first?.lowercased() == "time", header.count >= 2 else {
            throw CLIError("\(metrics.path): the header must be time,<service>.<metric>,…")
        }
        guard !times.isEmpty else {
            throw CLIError("\(metrics.path) has a header but no rows: nothing to rank")
        }
        if let first = unreadable.first {
            let column = first.column < header.count ? header[first.column] : "column \(first.column + 1)"
            let message =
                "vigil rca: \(metrics.path): read \(VigilCore.Format.count(unreadable.count, "cell")) as missing: not a finite number, or "
                + "beyond the header (first at line \(first.line), \(column))\n"
            FileHandle.standardError.write(Data(message.utf8))
        }
        let columns = header.dropFirst().enumerated().map { index, name in
            let (service, metric) = IncidentData.split(columnName: name)
            return IncidentData.Column(service: service, metric: metric, values: values[index])
        }
        var services: [String] = []
        var calls: [(String, String)] = []
        if let topology = try? Data(contentsOf: folder.appendingPathComponent("topology.json")) {
            // Optional: one that cannot be read leaves the ranking without a call graph, and says so.
            if let object = try? JSONSerialization.jsonObject(with: topology) as? [String: Any] {
                services = object["services"] as? [String] ?? []
                for pair in object["calls"] as? [[String]] ?? [] where pair.count == 2 {
                    calls.append((pair[0], pair[1]))
                }
            } else {
                let message = "vigil rca: topology.json is not a JSON object; ranking without the call graph\n"
                FileHandle.standardError.write(Data(message.utf8))
            }
        }
        var data = IncidentData(times: times, columns: columns, services: services, calls: calls)
        data.readCountersAsRates()
        let counters = data.columns.count(where: { $0.metric.hasPrefix("rate(") })
        if counters > 0 {
            let message =
                "vigil rca: read \(VigilCore.Format.count(counters, "column")) as cumulative counters, judged by "
                + "their increase per second (rate(…))\n"
            FileHandle.standardError.write(Data(message.utf8))
        }
        // Logs and spans become evidence side by side: the spans as one job, each service's logs as another
        // (the most lines first), merged after in a fixed order.
        let logLines = logs.records()
        let serviceLogs = data.logsByService(chunks: logLines)
        dropInBackground(consume logLines)
        let traces = spans.records()
        let withSpans = Box(data)
        let found = serviceLogs.map { _ in Box<IncidentData.LogEvidence?>(nil) }
        let order = serviceLogs.indices.sorted { serviceLogs[$0].count > serviceLogs[$1].count }
        let rowTimes = data.times
        DispatchQueue.concurrentPerform(iterations: order.count + 1) { job in
            if job == 0 {
                withSpans.value.addSpans(chunks: traces)
            } else {
                found[order[job - 1]].value = serviceLogs[order[job - 1]].evidence(times: rowTimes)
            }
        }
        dropInBackground(consume traces)
        dropInBackground(consume serviceLogs)
        data.add(found.compactMap { $0.value })
        data.merge(withSpans.value)
        return data
    }
}

/// An optional JSON-lines file of a case (`JSONLines`): a missing file is no data, and skipped lines are
/// reported on standard error. The file is cut into chunks that `readAll` parses on every core: a case may hold
/// a million spans.
final class JSONLinesFile<Record>: ChunkedFile, @unchecked Sendable {
    private let path: String
    private let what: String
    private let keys: [JSONFields.Key]
    private let record: ([JSONFields.Value?]) -> Record?
    private var bytes = Data()
    private var chunks: [Range<Int>] = []
    private var parts: UnsafeMutableBufferPointer<JSONLines.Part<Record>> = .init(start: nil, count: 0)

    init(
        _ folder: URL,
        _ name: String,
        what: String,
        keys: [JSONFields.Key],
        record: @escaping ([JSONFields.Value?]) -> Record?
    ) {
        self.path = folder.appendingPathComponent(name).path
        self.what = what
        self.keys = keys
        self.record = record
    }

    deinit {
        self.parts.deinitialize()
        self.parts.deallocate()
    }

    /// Reads the file, if there is one, and cuts it into chunks of about 4 MiB.
    func open() throws {
        guard FileManager.default.fileExists(atPath: self.path) else { return }
        // Mapped, not read: a case's spans may take hundreds of megabytes, read once.
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: self.path), options: .alwaysMapped) else {
            throw CLIError("cannot read \(self.path)")
        }
        self.bytes = data
        self.chunks = data.withUnsafeBytes { JSONLines.chunks($0.bindMemory(to: UInt8.self), size: 4 << 20) }
        self.parts = .allocate(capacity: self.chunks.count)
        self.parts.initialize(repeating: JSONLines.Part())
    }

    var chunkCount: Int { self.chunks.count }

    /// Parses one chunk; different chunks may be parsed at the same time.
    func parse(chunk: Int) {
        self.parts[chunk] = self.bytes.withUnsafeBytes { raw in
            let bytes = UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[self.chunks[chunk]])
            return JSONLines.read(bytes, keys: self.keys, record: self.record)
        }
    }

    /// The records of every chunk in file order, moved out of the chunks (a million spans are not copied);
    /// reports skipped lines. Call it once.
    func records() -> [[Record]] {
        var records: [[Record]] = []
        for chunk in self.parts.indices {
            records.append(self.parts[chunk].records)
            self.parts[chunk].records = []
        }
        let counts = JSONLines.join(self.parts)
        if counts.skipped > 0 {
            let message =
                "vigil rca: \(self.path): skipped \(VigilCore.Format.count(counts.skipped, "line")) that \(counts.skipped == 1 ? "is" : "are") not \(self.what) (first at line \(counts.firstSkipped))\n"
            FileHandle.standardError.write(Data(message.utf8))
        }
        return records
    }
}

/// A case's metrics.csv (``CSVReader/numericTable(_:path:)``) as one job of `readAll`.
final class MetricsFile: ChunkedFile, @unchecked Sendable {
    let path: String
    private var bytes: [UInt8] = []
    private var result: Result<CSVReader.NumericTable, any Error>?

    init(_ path: String) { self.path = path }

    func open() throws {
        guard let data = FileManager.default.contents(atPath: self.path) else {
            throw CLIError("cannot read \(self.path)")
        }
        self.bytes = [UInt8](data)
    }

    var chunkCount: Int { 1 }

    func parse(chunk: Int) {
        self.result = Result { try CSVReader.numericTable(self.bytes, path: self.path) }
        self.bytes = []
    }

    /// The parsed table, or the error that stopped it.
    func table() throws -> CSVReader.NumericTable {
        guard let result = self.result else { throw CLIError("\(self.path) was not read") }
        return try result.get()
    }
}

/// A value one concurrent job mutates while no other touches it.
final class Box<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Frees `value` on another core: a million spans or log lines take a core a tenth of a second to release, and
/// the ranking, on one core, need not wait for it.
func dropInBackground<Value>(_ value: consuming Value) {
    let box = Box(value)
    DispatchQueue.global().async { withExtendedLifetime(box) {} }
}

/// A file parsed in chunks that may run at the same time.
protocol ChunkedFile: AnyObject, Sendable {
    func open() throws
    var chunkCount: Int { get }
    func parse(chunk: Int)
}

/// Opens `files` and parses all their chunks on every core.
func readAll(_ files: [any ChunkedFile]) throws {
    let opened = files.map { _ in Box<(any Error)?>(nil) }
    DispatchQueue.concurrentPerform(iterations: files.count) { index in
        do { try files[index].open() } catch { opened[index].value = error }
    }
    if let error = opened.lazy.compactMap(\.value).first { throw error }
    let jobs = files.flatMap { file in (0..<file.chunkCount).map { (file, $0) } }
    DispatchQueue.concurrentPerform(iterations: jobs.count) { job in
        jobs[job].0.parse(chunk: jobs[job].1)
    }
}
