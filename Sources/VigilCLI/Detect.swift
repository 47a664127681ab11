// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import VigilCore

/// `vigil detect`: score every point of a metric series and report anomaly episodes.
struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find anomalies in a metric series (CSV with timestamp,value).",
        discussion: """
            Reads a CSV whose header is timestamp,value (any common timestamp format), scores each row in file \
            order as it arrives (causal: no row looks ahead) and reports the alerts. Rows whose timestamp does not \
            come after the previous one are scored anyway and reported on standard error; --strict-time rejects them.

            Output formats:
              text  one line per alert: time, detector (spike, dip, level_shift_up/down, flatline), value, \
            expected value and band, the baseline it was judged against (recent, daily, weekly), score (default)
              json  {"points": n, "alerts": [{time, signal, value, expected, lower, upper, baseline, score, \
            seconds_outside}]}
              nab   timestamp,value,anomaly_score,is_anomaly for every row (the NAB benchmark contract)

            One configuration for every series: baselines (recent level, same time of day, same time of week, \
            chosen by how well each predicts), spike/dip and level-shift detectors calibrated into tail \
            probabilities, a warm-up of 150 points, one alert per episode and a rest of 300 points after it.

            Examples:
              vigil detect cpu.csv
              vigil detect --format nab ../shared/data/nab/data/realKnownCause/nyc_taxi.csv
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
        case nab
    }

    @Option(help: "Output format: text, json or nab.")
    var format: Format = .text

    @Flag(help: "Fail on a timestamp that does not increase instead of scoring rows in file order.")
    var strictTime = false

    @Argument(help: "The CSV file to read, or - for standard input.")
    var file: String

    func run() throws {
        var reader = try LineReader(path: self.file)
        var points: [(raw: String, time: Timestamp, value: Double)] = []
        var problem: String?
        var duplicates: [Int] = []
        try reader.forEachLine { line, number, _ in
            guard problem == nil else { return }
            let text = line.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
            if number == 1 {
                let header = text.lowercased().split(separator: ",").map { $0.trimmingCharacters() }
                if header.count < 2 || header[0] != "timestamp" || header[1] != "value" {
                    problem = "line 1: expected the header timestamp,value, found \"\(text.prefix(80))\""
                }
                return
            }
            if text.allSatisfy({ $0 == " " }) { return }
            let fields = text.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count >= 2 else {
                problem = "line \(number): expected timestamp,value, found \"\(text.prefix(80))\""
                return
            }
            let timeText = Array(fields[0].utf8)
            guard let time = TimestampParser.parse(timeText.span) else {
                problem = "line \(number): \"\(fields[0].prefix(40))\" is not a timestamp"
                return
            }
            guard let value = Double(fields[1].trimmingCharacters()), value.isFinite else {
                problem = "line \(number): \"\(fields[1].prefix(40))\" is not a number"
                return
            }
            if let last = points.last, time <= last.time {
                // Real exports repeat or step back a timestamp now and then (NAB's exchange-2 and
                // machine_temperature do): points are scored in file order, and the lines are reported.
                if self.strictTime {
                    problem = "line \(number): timestamp \(fields[0]) is not after the previous row's \(last.raw)"
                    return
                }
                duplicates.append(number)
            }
            points.append((String(fields[0]), time, value))
        }
        if let problem { throw ValidationError(problem) }
        if let first = duplicates.first {
            printError(
                "vigil detect: \(duplicates.count) row(s) do not come after the previous row's timestamp (first at line \(first)); scored in file order (--strict-time makes this an error)"
            )
        }
        guard !points.isEmpty else {
            throw ValidationError("\(self.file) has no data rows under the header timestamp,value")
        }

        var detector = MetricAnomalyDetector()
        var out = OutputStream()
        switch self.format {
        case .nab:
            out.write("timestamp,value,anomaly_score,is_anomaly\n")
            for point in points {
                let result = detector.update(time: point.time, value: point.value)
                out.write(
                    "\(point.raw),\(Self.number(point.value)),\(Self.score(result.score)),\(result.isAnomaly ? 1 : 0)\n"
                )
            }
        case .text, .json:
            var alerts: [String] = []
            for point in points {
                let result = detector.update(time: point.time, value: point.value)
                guard result.isAnomaly else { continue }
                alerts.append(
                    self.format == .json ? Self.json(point, result) : Self.sentence(point, result)
                )
            }
            if self.format == .json {
                out.write("{\"points\":\(points.count),\"alerts\":[\(alerts.joined(separator: ","))]}\n")
            } else {
                for alert in alerts { out.write(alert + "\n") }
                out.write("\(points.count) points, \(alerts.count) alert(s)\n")
            }
        }
        out.flush()
    }

    /// One alert as a line a person reads: when, what, observed against expected, and why.
    private static func sentence(
        _ point: (raw: String, time: Timestamp, value: Double),
        _ result: MetricAnomalyDetector.Result
    ) -> String {
        let lower = result.expected - result.bandHalfWidth
        let upper = result.expected + result.bandHalfWidth
        var text = "alert  \(point.time.iso8601)  \(result.signal.rawValue)  value \(Self.number(point.value))"
        text += "  expected \(Self.number(result.expected)) (band \(Self.number(lower))…\(Self.number(upper)), "
        text += "\(result.baseline.rawValue) baseline)  score \(Self.score(result.score))"
        if result.secondsOutside > 0 { text += "  outside for \(Self.number(result.secondsOutside)) s" }
        return text
    }

    /// One alert as a JSON object.
    private static func json(
        _ point: (raw: String, time: Timestamp, value: Double),
        _ result: MetricAnomalyDetector.Result
    ) -> String {
        let fields = [
            "\"time\":\"\(point.time.iso8601)\"",
            "\"signal\":\"\(result.signal.rawValue)\"",
            "\"value\":\(Self.number(point.value))",
            "\"expected\":\(Self.number(result.expected))",
            "\"lower\":\(Self.number(result.expected - result.bandHalfWidth))",
            "\"upper\":\(Self.number(result.expected + result.bandHalfWidth))",
            "\"baseline\":\"\(result.baseline.rawValue)\"",
            "\"score\":\(Self.score(result.score))",
            "\"seconds_outside\":\(Self.number(result.secondsOutside))",
        ]
        return "{" + fields.joined(separator: ",") + "}"
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    private static func score(_ value: Double) -> String {
        let clamped = min(max(value, 0), 1)
        let scaled = (clamped * 1_000_000).rounded() / 1_000_000
        return String(scaled)
    }
}

extension Substring {
    /// The text without leading and trailing spaces, tabs and carriage returns.
    func trimmingCharacters() -> String {
        String(
            self.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed().drop(while: {
                $0 == " " || $0 == "\t" || $0 == "\r"
            }).reversed()
        )
    }
}
