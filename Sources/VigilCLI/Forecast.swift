// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import VigilCore

/// `vigil forecast`: forecast a metric series ahead with a prediction interval.
struct Forecast: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forecast a metric series (CSV: timestamp, then values) with a prediction interval.",
        discussion: """
            Fits candidate models to the series (seasonal naive, Holt-Winters without a season, and with an \
            additive or multiplicative daily or weekly season when the series is long enough, parameters by grid \
            search), picks the one that forecast its last quarter best (rolling origin), and prints the points \
            after the last row. The interval holds the chosen model's own backtest misses at each step (80 % by \
            default). The step is the median spacing of the timestamps. A long history is fitted on its latest \
            rows: eight of the longest season, and at least 10,000. The file is read as vigil detect reads \
            it; a row without a value (empty, NaN or null) is filled in between its neighbours.

            Output (csv): timestamp,forecast,lower,upper, one row per step; json: the same as an object with \
            the model chosen. With --backtest-from F the model is fitted on the first F of the rows only, then \
            run through the rest as it would have been used live (forecast, then learn the row); each row then \
            gets the forecasts made one step and the full horizon before it: \
            row,timestamp,steps,forecast,lower,upper,actual.

            Examples:
              vigil forecast requests.csv --horizon 15m
              vigil forecast requests.csv --horizon 2h --coverage 0.95 --format json
              vigil forecast ../shared/data/nab/data/realKnownCause/nyc_taxi.csv --horizon 1h --backtest-from 0.7
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv
        case json
    }

    @Argument(help: "The CSV file to read, or - for standard input.")
    var file: String

    @Option(help: "How far ahead: a number with s, m, h or d (15m, 2h, 1d).")
    var horizon: String = "15m"

    @Option(help: "The share of future points the interval should hold, in (0, 1).")
    var coverage: Double = 0.8

    @Option(help: "Output format: csv or json.")
    var format: Format = .csv

    @Option(help: "Fit on this fraction of the rows and report rolling forecasts for the rest (0.5 to 0.95).")
    var backtestFrom: Double?

    @Flag(help: "Fail on a timestamp that does not increase instead of keeping rows in file order.")
    var strictTime = false

    @Option(help: "The series to forecast, by its column's name, when the file holds several.")
    var column: String?

    func validate() throws {
        guard self.coverage > 0 && self.coverage < 1 else {
            throw ValidationError("--coverage must be between 0 and 1, got \(self.coverage)")
        }
        guard Self.seconds(self.horizon) != nil else {
            throw ValidationError("--horizon \(self.horizon) is not a duration like 15m, 2h or 1d")
        }
        if let fraction = self.backtestFrom, !(0.5...0.95).contains(fraction) {
            throw ValidationError("--backtest-from must be between 0.5 and 0.95, got \(fraction)")
        }
    }

    func run() throws {
        let file = try SeriesFile.read(
            self.file,
            command: "forecast",
            strictTime: self.strictTime,
            gaps: "filled in between their neighbours"
        )
        let index: Int
        if let column = self.column {
            guard let found = file.names.firstIndex(of: column) else {
                throw CLIError(
                    "\(self.file) has no column \(column); its series: \(file.names.joined(separator: ", "))"
                )
            }
            index = found
        } else {
            guard file.names.count == 1 else {
                throw CLIError(
                    "\(self.file) holds \(file.names.count) series (\(file.names.joined(separator: ", "))); name one with --column"
                )
            }
            index = 0
        }
        let points = file.series(index)
        let valued = points.count { $0.value != nil }
        guard valued >= 20 else {
            let rows = valued == points.count ? "\(points.count) rows" : "\(valued) values in \(points.count) rows"
            throw CLIError("\(self.file) has \(rows) of \(file.names[index]); a forecast needs at least 20")
        }
        let step = Forecaster.medianStep(points.map(\.time.seconds))
        let horizonSteps = max(1, Int((Self.seconds(self.horizon)! / step).rounded(.up)))
        let periods = Forecaster.seasonalPeriods(step: step, count: points.count)
        let values = Self.filled(points.map(\.value))
        let fitted = self.backtestFrom.map { Int(Double(values.count) * $0) } ?? values.count
        let fitFrom = fitted - Forecaster.pointsToFit(count: fitted, periods: periods)
        if fitFrom > 0 {
            printError(
                "vigil forecast: fitting on the last \(VigilCore.Format.count(fitted - fitFrom)) of \(VigilCore.Format.count(fitted, "row")) (eight of its longest season, or 10,000: older rows cost time and teach the model little)"
            )
        }
        guard
            var forecaster = Forecaster.fit(
                Array(values[fitFrom..<fitted]),
                periods: periods,
                horizon: horizonSteps,
                coverage: self.coverage
            )
        else {
            throw CLIError("\(self.file): too few rows to fit a model")
        }
        printError(
            "vigil forecast: step \(Self.number(step)) s, horizon \(VigilCore.Format.count(horizonSteps, "step")), model: \(forecaster.model.summary), backtest MAE \(Detect.readable(forecaster.backtestError))"
        )
        var out = OutputStream()
        if self.backtestFrom != nil {
            out.write("row,timestamp,steps,forecast,lower,upper,actual\n")
            // The forecasts made for each row: one step before it and the full horizon before it.
            var pending: [Int: [Forecaster.Step]] = [:]
            for index in fitted..<values.count {
                for step in Set([1, horizonSteps]).sorted() where index + step - 1 < values.count {
                    pending[index + step - 1, default: []].append(forecaster.forecast(steps: step))
                }
                for made in pending.removeValue(forKey: index) ?? [] {
                    out.write(
                        "\(index + 2),\(points[index].raw),\(made.steps),\(Self.number(made.value)),"
                            + "\(Self.number(made.lower)),\(Self.number(made.upper)),\(Self.number(values[index]))\n"
                    )
                }
                forecaster.update(values[index])
            }
            out.flush()
            return
        }
        let last = points[points.count - 1].time
        let steps = forecaster.forecast()
        switch self.format {
        case .csv:
            out.write("timestamp,forecast,lower,upper\n")
            for item in steps {
                let time = last.adding(seconds: step * Double(item.steps))
                out.write(
                    "\(time.iso8601),\(Self.number(item.value)),\(Self.number(item.lower)),\(Self.number(item.upper))\n"
                )
            }
        case .json:
            let rows = steps.map { item in
                let time = last.adding(seconds: step * Double(item.steps))
                return "{\"timestamp\":\"\(time.iso8601)\",\"forecast\":\(Self.number(item.value)),"
                    + "\"lower\":\(Self.number(item.lower)),\"upper\":\(Self.number(item.upper))}"
            }
            out.write(
                "{\"model\":\"\(forecaster.model.summary)\",\"step_seconds\":\(Self.number(step)),"
                    + "\"coverage\":\(self.coverage),\"forecast\":[\(rows.joined(separator: ","))]}\n"
            )
        }
        out.flush()
    }

    /// Seconds in a duration such as 90s, 15m, 2h or 1d; nil when it is not one.
    static func seconds(_ text: String) -> Double? { DurationText.seconds(in: text) }

    /// The values with each gap (a row without a value) filled in on the line between its neighbours, or with
    /// the nearest value at either end: the models take one value per step.
    static func filled(_ values: [Double?]) -> [Double] {
        var result = [Double](repeating: 0, count: values.count)
        var previous: Int?
        for index in values.indices {
            guard let value = values[index] else { continue }
            if let start = previous {
                let from = values[start]!
                for gap in (start + 1)..<index {
                    result[gap] = from + (value - from) * Double(gap - start) / Double(index - start)
                }
            } else {
                for gap in 0..<index { result[gap] = value }
            }
            result[index] = value
            previous = index
        }
        if let last = previous {
            for gap in (last + 1)..<values.count { result[gap] = values[last]! }
        }
        return result
    }

    private static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
