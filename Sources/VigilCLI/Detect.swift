// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import VigilCore

/// `vigil detect`: score every point of a metric series and report anomaly episodes.
struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find anomalies in metric series (CSV: timestamp, then a column per series).",
        discussion: """
            Reads a CSV of time, then values (any common timestamp format), scores each row in file order as it \
            arrives (causal: no row looks ahead) and reports the alerts. The header is timestamp,value, or a first \
            column called time, ts, date or datetime and the others named after their series, as Grafana and \
            Prometheus exports have it (quoted cells are fine), or there is none and the file starts with data. \
            Each column after the time is a series with its own detector; with several, alerts name theirs. A \
            Prometheus HTTP API answer (the JSON of /api/v1/query_range) is read too, one series per result, \
            named by its labels. \
            Rows whose timestamp does not come after the previous one are scored anyway and reported on standard \
            error; --strict-time rejects them. A row without a value (empty, NaN or null) is a gap: counted on \
            standard error and not scored (nab output keeps its row, with an empty value and a score of 0).

            Output formats:
              text  one line per alert: time, detector (spike, dip, level_shift_up/down, flatline, off_beat, \
            missed_beat), value, expected value and band (where a point alone starts to alert: four errors \
            either side, nearer on a series so regular that less is already as rare; never below 0 on a series \
            that has not been negative), the baseline it was judged against (recent, daily, weekly), score with \
            the odds behind it (the calibrated tail probability: "as rare as 1 in 1,700 points"), and for a \
            level shift the average that moved against the level it left (the value itself may be inside its \
            band; on a daily or weekly baseline, how far the points averaged above or below their expected \
            values), for a spike or dip that scored by leaving the range seen, how far beyond the edge it \
            left ("8.3 above the range it left (highest 112.9)"), and for a flatline how long the value held \
            ("held for 123 points (longest run before 41)") (default)
              json  {"points": n, "alerts": [{series, time, signal, value, expected, lower, upper, baseline, score, \
            tail_probability (null for a flatline or a missed beat), seconds_outside, beat_seconds when judged \
            by a spike beat, shift: {points, mean, level} for a level shift, range_edge for a spike or dip \
            beyond the range seen, freeze: {points, longest_before} for a flatline}]}; a trend_exhaustion \
            alert gives {series, time, signal, value (the fitted line now), limit, per_hour, hours_to_limit, \
            earliest_hours, latest_hours (null when a flat line is plausible), crossing, confidence}
              nab   timestamp,value,anomaly_score,is_anomaly for every row (the NAB benchmark contract; one series)

            One configuration for every series: baselines (recent level, same time of day, same time of week, \
            chosen by how well each predicts), spike/dip and level-shift detectors calibrated into tail \
            probabilities, a warm-up of 150 points, one alert per episode and a rest of 200 points after it. A \
            spike that stays in the lower half of the range the series has already shown (a dip in the upper \
            half) counts as far as it reaches across that range: 10 to 18 is news on a series that never passed \
            20, less so on one that has been at 100. A new high is measured from where the range stood when \
            the series left it, so a daily swing that climbs a little every day alerts on the first day it \
            passes its old high by a clear margin, not only when a single step is large. \
            Spikes that keep a beat (a nightly job, found after five of them) stop alerting unless they grow \
            tenfold rarer; a spike as large away from the beat alerts as off_beat, naming the beat. A beat that \
            held seven times and then does not come (the job did not run) alerts once as missed_beat, when the \
            rows have passed its time by twice the tolerance (3 % of the period, at least a row and a half).

            A series whose name says it is a cumulative counter (Prometheus's _total, a histogram's _count, _sum \
            and _bucket) is judged by its increase per second, as rate() reads it: alerts name it rate(NAME) and \
            give the rate, and a fall is a restart from zero. One that falls other than to restart (to below half \
            its value) is no counter, and its values are judged from there on (not with --format nab, which \
            judges the value column as it is).

            With --limit, or for a series whose name gives its limit (…_used_ratio 1; free bytes such as \
            node_filesystem_avail_bytes 0), a steady climb towards the limit (of any series but a counter) alerts \
            once as trend_exhaustion, with when it gets there and an interval: "rising 1.2 per hour: reaches 100 \
            in 41.7 h (between 40.9 h and 42.5 h), around 2026-01-04T17:40:00Z". A series that starts above its \
            limit is watched for a fall to it instead (free bytes to 0). The line is fitted to the last few \
            hundred rows, and only a move that is clearly real, along a line (not a one-off step), and due within \
            7 days alerts.

            Rows are scored as they are read: from a pipe, the text report prints each alert when its row arrives.

            Examples:
              vigil detect cpu.csv
              tail -n +1 -f cpu.csv | vigil detect -
              curl -s 'http://prometheus:9090/api/v1/query_range?query=up&start=1700000000&end=1700086400&step=60' \
                | vigil detect -
              vigil detect --format nab ../shared/data/nab/data/realKnownCause/nyc_taxi.csv
              vigil detect --limit 500 disk_used_gb.csv
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
        case nab
    }

    @Option(help: "Output format: text, json or nab.")
    var format: Format = .text

    @Option(help: "Score at which an alert fires, in (0, 1]: higher alerts less often.")
    var alertThreshold: Double = MetricAnomalyDetector.Configuration().alertThreshold

    @Option(
        help: ArgumentHelp(
            "The value the series must not reach (a disk's size, a quota; 0 for free bytes): a steady climb towards it "
                + "(a fall, for a series that starts above it) alerts as trend_exhaustion, with the predicted "
                + "crossing time and its interval.",
            valueName: "value"
        )
    )
    var limit: Double?

    @Flag(help: "Fail on a timestamp that does not increase instead of scoring rows in file order.")
    var strictTime = false

    @Argument(help: "The CSV file to read, or - for standard input.")
    var file: String

    func validate() throws {
        guard self.alertThreshold > 0 && self.alertThreshold <= 1 else {
            throw ValidationError("--alert-threshold must be in (0, 1], got \(self.alertThreshold)")
        }
        if let limit = self.limit {
            guard limit.isFinite else { throw ValidationError("--limit must be a finite number, got \(limit)") }
            guard self.format != .nab else {
                throw ValidationError("--limit does not apply to --format nab, whose rows carry only a score")
            }
        }
    }

    func run() throws {
        var configuration = MetricAnomalyDetector.Configuration()
        configuration.alertThreshold = self.alertThreshold
        var detectors: [MetricAnomalyDetector] = []
        var out = OutputStream()
        var alerts: [String] = []
        var alertCount = 0
        var scored = 0
        var seriesCount = 0
        /// Per series: a counter's last sample, nil for other series; and the name alerts give it.
        var counters: [CounterRate?] = []
        var labels: [String] = []
        /// Per series: its limit (--limit, or the one its name says it has: 1 for a `…_used_ratio`, 0 for free
        /// bytes), nil when it has none; and the trend towards it, from its first value (above the limit, it falls
        /// towards it).
        var limits: [Double?] = []
        var trends: [TrendDetector?] = []
        // Row by row as they are read: the alerts of several series come in time order, and a text report of a
        // pipe (`tail -f cpu.csv | vigil detect -`) prints each alert when its row arrives.
        let gaps = "gaps, not scored"
        try SeriesFile.forEachRow(self.file, command: "detect", strictTime: self.strictTime, gaps: gaps) { names, row in
            if detectors.isEmpty {
                if self.format == .nab && names.count != 1 {
                    throw CLIError(
                        "--format nab takes one series, and \(self.file) has \(names.count): \(names.joined(separator: ", "))"
                    )
                }
                detectors = names.map { _ in MetricAnomalyDetector(configuration: configuration) }
                seriesCount = names.count
                counters = names.map {
                    CounterRate.isCounter(name: String($0.prefix { $0 != "{" })) ? CounterRate() : nil
                }
                labels = names.indices.map { counters[$0] == nil ? names[$0] : "rate(\(names[$0]))" }
                // A counter only ever climbs: no limit is reached by its count.
                limits = names.indices.map { column in
                    let named = TrendDetector.Configuration.named(names[column].prefix { $0 != "{" })
                    return counters[column] != nil ? nil : self.limit ?? named?.limit
                }
                trends = names.map { _ in nil }
                if self.format == .nab { out.write("timestamp,value,anomaly_score,is_anomaly\n") }
            }
            if self.format == .nab {
                // A row without a value keeps its place in the contract, unscored.
                guard let value = row.values[0] else {
                    out.write("\(row.raw),,\(Self.score(0)),0\n")
                    return
                }
                let result = detectors[0].update(time: row.time, value: value)
                out.write(
                    "\(row.raw),\(Self.number(value)),\(Self.score(result.score)),\(result.isAnomaly ? 1 : 0)\n"
                )
                return
            }
            for column in names.indices {
                guard var value = row.values[column] else { continue }
                scored += 1
                // The trend reads the column as it is in the file: a disk's bytes, not their rate.
                if let limit = limits[column], trends[column] == nil {
                    trends[column] = TrendDetector(configuration: .init(limit: limit, falling: value > limit))
                }
                if let prediction = trends[column]?.update(time: row.time, value: value),
                    let limit = limits[column]
                {
                    alertCount += 1
                    if self.format == .json {
                        alerts.append(Self.json(names[column], row.time, prediction, limit: limit))
                    } else {
                        out.write(
                            Self.sentence(names.count > 1 ? names[column] : nil, row.time, prediction, limit) + "\n"
                        )
                        out.flush()
                    }
                }
                if var counter = counters[column] {
                    switch counter.read(seconds: row.time.seconds, value: value) {
                    case .rate(let rate):
                        counters[column] = counter
                        value = rate
                    case .first:
                        counters[column] = counter
                        continue
                    case .notACounter:
                        // Its values from here on, on a detector that never saw rates.
                        counters[column] = nil
                        labels[column] = names[column]
                        detectors[column] = MetricAnomalyDetector(configuration: configuration)
                    }
                }
                let result = detectors[column].update(time: row.time, value: value)
                guard result.isAnomaly else { continue }
                alertCount += 1
                let counted = counters[column] != nil
                if self.format == .json {
                    alerts.append(Self.json(labels[column], row.time, value, result))
                } else {
                    let label = names.count > 1 || counted ? labels[column] : nil
                    out.write(Self.sentence(label, row.time, value, result) + "\n")
                    out.flush()
                }
            }
        }
        switch self.format {
        case .nab:
            break
        case .json:
            out.write("{\"points\":\(scored),\"alerts\":[\(alerts.joined(separator: ","))]}\n")
        case .text:
            let series = seriesCount > 1 ? "\(VigilCore.Format.count(seriesCount, "series", plural: "series")), " : ""
            out.write("\(series)\(scored) points, \(VigilCore.Format.count(alertCount, "alert"))\n")
        }
        out.flush()
    }

    /// One alert as a line a person reads: when, what, observed against expected, and why.
    private static func sentence(
        _ series: String?,
        _ time: Timestamp,
        _ value: Double,
        _ result: MetricAnomalyDetector.Result
    ) -> String {
        let (lower, upper) = (result.lower, result.upper)
        var text =
            "alert  \(time.iso8601)  \(series.map { "\($0)  " } ?? "")\(result.signal.rawValue)  value \(Self.number(value))"
        text += "  expected \(Self.readable(result.expected)) (band \(Self.readable(lower))…\(Self.readable(upper)), "
        text += "\(result.baseline.rawValue) baseline)  score \(Self.score(result.score))"
        if let odds = Self.odds(result) { text += " (as rare as 1 in \(odds) points)" }
        if let shift = result.shift {
            // On a seasonal baseline the average is of distances from each point's expectation.
            let gap = shift.mean - shift.level
            text +=
                result.baseline == .recent
                ? "  mean of \(shift.points) points \(Self.readable(shift.mean)) against level \(Self.readable(shift.level))"
                : "  \(shift.points) points averaged \(Self.readable(abs(gap))) \(gap >= 0 ? "above" : "below") expected"
        }
        if let edge = result.rangeEdge {
            let above = value >= edge
            text += "  \(Self.readable(abs(value - edge))) \(above ? "above" : "below") the range it left ("
            text += "\(above ? "highest" : "lowest") \(Self.readable(edge)))"
        }
        if let freeze = result.freeze {
            text += "  held for \(freeze.points) points (longest run before \(freeze.longestBefore))"
        }
        if result.secondsOutside > 0 { text += "  outside for \(Self.number(result.secondsOutside)) s" }
        if let beat = result.beatSeconds {
            let missed = result.signal == .missedBeat
            text += missed ? "  no spike on its beat every " : "  beat every "
            text += DurationText.describe(beat)
        }
        return text
    }

    /// A climb towards the limit as a line a person reads: where the fitted line is, how fast it rises, and when
    /// it reaches the limit, with the interval.
    private static func sentence(
        _ series: String?,
        _ time: Timestamp,
        _ prediction: TrendDetector.Prediction,
        _ limit: Double
    ) -> String {
        var text = "alert  \(time.iso8601)  \(series.map { "\($0)  " } ?? "")trend_exhaustion"
        let rising = prediction.slopePerSecond > 0
        text += "  value \(Self.readable(prediction.level)) (fitted)  \(rising ? "rising" : "falling") "
        text += "\(Self.readable(abs(prediction.slopePerSecond) * 3600)) per hour: reaches \(Self.readable(limit)) in "
        let hours = VigilCore.Format.hours
        text += "\(hours(prediction.secondsToLimit)) (between \(hours(prediction.earliestSeconds)) and "
        text += "\(hours(prediction.latestSeconds))), around \(Self.crossing(time, prediction).iso8601)"
        text += "  confidence \(Self.score(prediction.confidence))"
        return text
    }

    /// When the fitted line reaches the limit, to the second.
    private static func crossing(_ time: Timestamp, _ prediction: TrendDetector.Prediction) -> Timestamp {
        Timestamp(seconds: (time.seconds + prediction.secondsToLimit).rounded())
    }

    /// A climb towards the limit as a JSON object (`latest_hours` is null when a flat line is plausible).
    private static func json(
        _ series: String,
        _ time: Timestamp,
        _ prediction: TrendDetector.Prediction,
        limit: Double
    ) -> String {
        let latest = prediction.latestSeconds.isFinite ? Self.number(prediction.latestSeconds / 3600) : "null"
        let fields = [
            "\"series\":\(JSON.string(series))",
            "\"time\":\"\(time.iso8601)\"",
            "\"signal\":\"trend_exhaustion\"",
            "\"value\":\(Self.number(prediction.level))",
            "\"limit\":\(Self.number(limit))",
            "\"per_hour\":\(Self.number(prediction.slopePerSecond * 3600))",
            "\"hours_to_limit\":\(Self.number(prediction.secondsToLimit / 3600))",
            "\"earliest_hours\":\(Self.number(prediction.earliestSeconds / 3600))",
            "\"latest_hours\":\(latest)",
            "\"crossing\":\"\(Self.crossing(time, prediction).iso8601)\"",
            "\"confidence\":\(Self.score(prediction.confidence))",
        ]
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// One alert as a JSON object.
    private static func json(
        _ series: String,
        _ time: Timestamp,
        _ value: Double,
        _ result: MetricAnomalyDetector.Result
    ) -> String {
        let fields = [
            "\"series\":\(JSON.string(series))",
            "\"time\":\"\(time.iso8601)\"",
            "\"signal\":\"\(result.signal.rawValue)\"",
            "\"value\":\(Self.number(value))",
            "\"expected\":\(Self.number(result.expected))",
            "\"lower\":\(Self.number(result.lower))",
            "\"upper\":\(Self.number(result.upper))",
            "\"baseline\":\"\(result.baseline.rawValue)\"",
            "\"score\":\(Self.score(result.score))",
            "\"tail_probability\":\(Self.tailProbability(result).map { String(format: "%.3g", $0) } ?? "null")",
            "\"seconds_outside\":\(Self.number(result.secondsOutside))",
        ]
        let beat = result.beatSeconds.map { [",\"beat_seconds\":\(Self.number($0.rounded()))"] } ?? []
        let shift =
            result.shift.map {
                [
                    ",\"shift\":{\"points\":\($0.points),\"mean\":\(Self.number($0.mean)),\"level\":\(Self.number($0.level))}"
                ]
            } ?? []
        let edge = result.rangeEdge.map { [",\"range_edge\":\(Self.number($0))"] } ?? []
        let freeze =
            result.freeze.map { [",\"freeze\":{\"points\":\($0.points),\"longest_before\":\($0.longestBefore)}"] } ?? []
        return "{" + fields.joined(separator: ",") + beat.joined() + shift.joined() + edge.joined() + freeze.joined()
            + "}"
    }

    /// The calibrated tail probability behind a score (nil for a flatline or a missed beat, whose score is a
    /// verdict, not a probability; for a spike low in the range seen, as discounted by its reach); a saturated score
    /// stands for this probability or less.
    static func tailProbability(_ result: MetricAnomalyDetector.Result) -> Double? {
        guard result.signal != .flatline, result.signal != .missedBeat, result.score > 0 else { return nil }
        return pow(10, -result.score * MetricAnomalyDetector.Configuration().saturationLog10)
    }

    /// "420" or "1,000,000+" for a tail probability: how many points go by for each one this surprising, to two
    /// significant digits.
    static func odds(_ result: MetricAnomalyDetector.Result) -> String? {
        guard let probability = tailProbability(result) else { return nil }
        let points = 1 / probability
        let magnitude = pow(10, floor(log10(points)) - 1)
        let grouped = VigilCore.Format.count(Int(max(1, (points / magnitude).rounded() * magnitude)))
        return result.score >= 1 ? grouped + "+" : grouped
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// A model's estimate as a person reads it: four significant digits (11, 22.25, −0.249), whole numbers from
    /// 10,000 on. The JSON keeps every digit.
    static func readable(_ value: Double) -> String {
        guard value.isFinite else { return String(value) }
        if abs(value) >= 10_000 { return String(Int64(value.rounded())) }
        let text = String(format: "%.4g", value)
        return text == "-0" ? "0" : text
    }

    private static func score(_ value: Double) -> String {
        let clamped = min(max(value, 0), 1)
        let scaled = (clamped * 1_000_000).rounded() / 1_000_000
        return String(scaled)
    }
}
