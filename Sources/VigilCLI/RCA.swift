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
            line), spans.jsonl ({"trace_id", "span_id", "parent_id", "service", "start", "duration_ms", "error"} \
            per line) and hint.json ({"alert_time": unix seconds}). Without hint.json the incident onset is found \
            in the data. The format is described in ../shared/eval/RCA_CASES.md.

            Logs and spans become evidence on the metrics' rows: per service, error lines and lines of templates \
            never seen in its first minute of logs; span latency, own time, errors, and network time (how long \
            what the service sends takes to arrive: where a network delay on it shows). Parent links add calls \
            to the graph. Lines that are not valid JSON of that shape are skipped and counted on stderr.

            The report names the candidates with the metric behind each, the impact chain (the root cause, then \
            each deviating caller the fault reached), the timeline of first deviations (observed against the \
            level before the onset) and the first thing to try, from what moved. --output json adds the same as \
            root_cause, impact_chain, timeline, action and action_reason beside the ranking.

            Examples:
              vigil rca incidents/2026-11-23-checkout
              vigil rca incidents/2026-11-23-checkout --output json | jq '.ranking[0]'
            """
    )

    @Option(help: "text (a report) or json ({\"ranking\": [{\"service\", \"score\"}, …], …}).")
    var output = "text"

    @Option(help: "How many candidates the text report lists.")
    var top = 5

    @Argument(help: "The case folder.")
    var caseDirectory: String

    func validate() throws {
        guard ["text", "json"].contains(self.output) else { throw ValidationError("--output must be text or json") }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: self.caseDirectory)
        let data = try Self.load(folder)
        var alertTime: Double?
        if let hint = try? Data(contentsOf: folder.appendingPathComponent("hint.json")),
            let object = try? JSONSerialization.jsonObject(with: hint) as? [String: Any]
        {
            alertTime = (object["alert_time"] as? NSNumber)?.doubleValue
        }
        let result = RootCauseRanker().rank(data, alertTime: alertTime)
        let explanation = RootCauseRanker.explain(result, of: data)
        var out = OutputStream()
        if self.output == "json" {
            let ranking: [[String: Any]] = result.candidates.map { candidate in
                var entry: [String: Any] = ["service": candidate.service, "score": candidate.score]
                if let metric = candidate.metric { entry["metric"] = metric }
                if let yielded = candidate.yieldedTo { entry["symptom_of"] = yielded }
                if let first = candidate.firstDeviation { entry["first_deviation"] = first }
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
                "impact_chain": explanation.impactChain, "timeline": timeline, "action": explanation.action,
                "action_reason": explanation.reason,
            ]
            if let root = explanation.rootCause { object["root_cause"] = root }
            let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            out.write(String(decoding: json, as: UTF8.self) + "\n")
        } else {
            let onset = Timestamp(seconds: result.onset).iso8601
            out.write("incident onset: \(onset) (\(result.onsetDetected ? "found in the data" : "from hint.json"))\n")
            out.write("root-cause candidates:\n")
            for (index, candidate) in result.candidates.prefix(self.top).enumerated() {
                var line = "  \(index + 1). \(candidate.service)  score \(String(format: "%.1f", candidate.score))"
                if let metric = candidate.metric {
                    line +=
                        "  (\(metric) moved \(String(format: "%.1f", candidate.deviation)) robust spreads from normal"
                    if let first = candidate.firstDeviation {
                        line += ", first at \(Timestamp(seconds: first).iso8601)"
                    }
                    line += ")"
                }
                if let yielded = candidate.yieldedTo { line += "  likely a symptom of \(yielded), which it calls" }
                out.write(line + "\n")
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
            out.write("try first: \(explanation.action)\n  because \(explanation.reason)\n")
        }
        out.flush()
    }

    /// Reads metrics.csv and topology.json of a case folder.
    static func load(_ folder: URL) throws -> IncidentData {
        let metricsURL = folder.appendingPathComponent("metrics.csv")
        guard let bytes = FileManager.default.contents(atPath: metricsURL.path) else {
            throw ValidationError("cannot read \(metricsURL.path)")
        }
        let rows = CSVReader.rows([UInt8](bytes))
        guard let header = rows.first, header.first?.lowercased() == "time", header.count >= 2 else {
            throw ValidationError("\(metricsURL.path): the header must be time,<service>.<metric>,…")
        }
        var times: [Double] = []
        var values = [[Double?]](repeating: [], count: header.count - 1)
        for (index, row) in rows.dropFirst().enumerated() where !(row.count == 1 && row[0].isEmpty) {
            guard let time = Double(row[0]) else {
                throw ValidationError(
                    "\(metricsURL.path) line \(index + 2): time \"\(row[0].prefix(40))\" is not a number"
                )
            }
            times.append(time)
            for column in 0..<(header.count - 1) {
                let cell = column + 1 < row.count ? row[column + 1] : ""
                values[column].append(cell.isEmpty ? nil : Double(cell).flatMap { $0.isFinite ? $0 : nil })
            }
        }
        let columns = header.dropFirst().enumerated().map { index, name in
            let (service, metric) = IncidentData.split(columnName: name)
            return IncidentData.Column(service: service, metric: metric, values: values[index])
        }
        var services: [String] = []
        var calls: [(String, String)] = []
        if let topology = try? Data(contentsOf: folder.appendingPathComponent("topology.json")),
            let object = try? JSONSerialization.jsonObject(with: topology) as? [String: Any]
        {
            services = object["services"] as? [String] ?? []
            for pair in object["calls"] as? [[String]] ?? [] where pair.count == 2 { calls.append((pair[0], pair[1])) }
        }
        var data = IncidentData(times: times, columns: columns, services: services, calls: calls)
        data.addLogs(
            try Self.jsonLines(folder, "logs.jsonl", what: "a log line") { object in
                guard let time = object["time"]?.double, let service = object["service"]?.string,
                    let line = object["line"]?.string
                else { return nil }
                return IncidentData.CaseLogLine(time: time, service: service, line: line)
            }
        )
        data.addSpans(
            try Self.jsonLines(folder, "spans.jsonl", what: "a span") { object in
                guard let trace = object["trace_id"]?.string, let id = object["span_id"]?.string,
                    let service = object["service"]?.string, let start = object["start"]?.double,
                    let milliseconds = object["duration_ms"]?.double, start.isFinite, milliseconds.isFinite
                else { return nil }
                var failed: Bool?
                if case .bool(let flag) = object["error"] { failed = flag }
                return IncidentData.CaseSpan(
                    traceID: trace,
                    spanID: id,
                    parentID: object["parent_id"]?.string.flatMap { $0.isEmpty ? nil : $0 },
                    service: service,
                    start: start,
                    seconds: max(0, milliseconds / 1000),
                    isError: failed
                )
            }
        )
        return data
    }

    /// Reads an optional JSON-lines file of the case: one value per line that `read` accepts. A missing file is
    /// no data; lines that are not JSON objects of the expected shape are skipped and counted on standard error.
    static func jsonLines<Value>(
        _ folder: URL,
        _ name: String,
        what: String,
        _ read: (JSONValue) -> Value?
    ) throws -> [Value] {
        let path = folder.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        let bytes = [UInt8](data)
        var values: [Value] = []
        var skipped = 0
        var firstSkipped = 0
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            lineNumber += 1
            let line = Array(bytes[start..<end])
            start = end + 1
            guard line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { continue }
            if let object = try? JSONParser.parse(line), let value = read(object) {
                values.append(value)
            } else {
                skipped += 1
                if firstSkipped == 0 { firstSkipped = lineNumber }
            }
        }
        if skipped > 0 {
            let message =
                "vigil rca: \(path): skipped \(skipped) line(s) that are not \(what) (first at line \(firstSkipped))\n"
            FileHandle.standardError.write(Data(message.utf8))
        }
        return values
    }
}

/// RFC 4180 CSV on bytes: quoted fields, doubled quotes, CRLF or LF.
enum CSVReader {
    static func rows(_ bytes: [UInt8]) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") && field.isEmpty {
                quoted = true
            } else if byte == UInt8(ascii: ",") {
                row.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
            } else if byte == 0x0A {
                if field.last == 0x0D { field.removeLast() }
                row.append(String(decoding: field, as: UTF8.self))
                rows.append(row)
                row = []
                field.removeAll(keepingCapacity: true)
            } else {
                field.append(byte)
            }
            index += 1
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(String(decoding: field, as: UTF8.self))
            rows.append(row)
        }
        return rows
    }
}
