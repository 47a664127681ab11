// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The load a predictive autoscaler should size for now: the higher of the current value and the peak of the
/// forecast over the horizon (its upper interval bound by default). A forecast can scale out ahead of a rise; it
/// never scales in below what is happening, and with too little history the current value stands alone, as a
/// reactive scaler's would.
public struct ScalingAdvisor: Sendable {
    /// How far ahead to look and how cautious to be.
    public struct Configuration: Sendable, Equatable {
        /// How far ahead the capacity must be ready (new replicas need time to start).
        public var horizonSeconds = 900.0
        /// The prediction interval's coverage; its upper bound is what is sized for when `sizesForUpperBound`.
        public var coverage = 0.8
        /// Size for the interval's upper bound rather than the point forecast.
        public var sizesForUpperBound = true
        /// Points of history a forecast needs; with fewer, the current value is reported.
        public var minimumPoints = 40

        /// The defaults: 15 minutes ahead, the upper bound of an 80 % interval, 40 points of history.
        public init() {}
    }

    /// What to report, and why.
    public struct Advice: Sendable, Equatable {
        /// The value to size for.
        public var value: Double
        /// The latest value.
        public var current: Double
        /// The forecast's peak over the horizon, if there was a forecast.
        public var forecastPeak: Double?
        /// One sentence: where the value comes from.
        public var basis: String
    }

    public var configuration: Configuration

    /// An advisor.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The advice for a series (times in seconds, oldest first); nil when it has no finite value.
    /// - Complexity: that of ``Forecaster/fit(_:periods:horizon:coverage:)`` over the history.
    public func advise(times: [Double], values: [Double]) -> Advice? {
        var points: [(time: Double, value: Double)] = []
        points.reserveCapacity(values.count)
        for (time, value) in zip(times, values) where time.isFinite && value.isFinite { points.append((time, value)) }
        guard let last = points.last else { return nil }
        let configuration = self.configuration
        guard points.count >= configuration.minimumPoints else {
            return Advice(
                value: last.value,
                current: last.value,
                forecastPeak: nil,
                basis:
                    "the current value: \(Format.count(points.count, "point")) of history, a forecast needs \(configuration.minimumPoints)"
            )
        }
        let step = Forecaster.medianStep(points.map(\.time))
        let horizon = max(1, Int((configuration.horizonSeconds / step).rounded(.up)))
        let series = points.map(\.value)
        guard
            let forecaster = Forecaster.fit(
                series,
                periods: Forecaster.seasonalPeriods(step: step, count: series.count),
                horizon: horizon,
                coverage: configuration.coverage
            )
        else {
            return Advice(
                value: last.value,
                current: last.value,
                forecastPeak: nil,
                basis: "the current value: no model fits"
            )
        }
        let path = forecaster.forecast()
        let peak = path.map { configuration.sizesForUpperBound ? $0.upper : $0.value }.max() ?? last.value
        let bound =
            configuration.sizesForUpperBound
            ? "upper bound of its \(Int((configuration.coverage * 100).rounded())) % interval" : "point forecast"
        let ahead = Self.duration(Double(horizon) * step)
        if peak > last.value {
            return Advice(
                value: peak,
                current: last.value,
                forecastPeak: peak,
                basis:
                    "the forecast's peak over the next \(ahead) (\(forecaster.model.summary), \(bound)), above the current value"
            )
        }
        return Advice(
            value: last.value,
            current: last.value,
            forecastPeak: peak,
            basis:
                "the current value: the forecast over the next \(ahead) (\(forecaster.model.summary), \(bound)) stays below it"
        )
    }

    static func duration(_ seconds: Double) -> String {
        if seconds >= 3_600 && seconds.truncatingRemainder(dividingBy: 3_600) == 0 {
            return "\(Int(seconds / 3_600)) h"
        }
        if seconds >= 60 && seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60)) min" }
        return "\(Int(seconds.rounded())) s"
    }
}

extension Forecaster {
    /// The median spacing of `times` in seconds (1 when they do not increase).
    public static func medianStep(_ times: [Double]) -> Double {
        var gaps: [Double] = []
        gaps.reserveCapacity(times.count)
        for index in times.indices.dropFirst() {
            let gap = times[index] - times[index - 1]
            if gap > 0 { gaps.append(gap) }
        }
        guard !gaps.isEmpty else { return 1 }
        gaps.sort()
        return gaps[gaps.count / 2]
    }

    /// How many of a history's latest points ``fit(_:periods:horizon:coverage:)`` needs: eight of the longest
    /// season, and at least 10,000. Each point costs every candidate of the grid a step; the level and trend have
    /// forgotten points that old (the grid's slowest keeps 0.98^10,000 of one), and eight seasons give the
    /// seasonal indices as many updates to learn from, starting from recent seasons rather than old ones.
    public static func pointsToFit(count: Int, periods: [Int]) -> Int {
        min(count, max(10_000, 8 * (periods.max() ?? 1)))
    }

    /// Candidate seasons for a series sampled every `step` seconds: a day and a week, when `count` points hold at
    /// least four of them.
    public static func seasonalPeriods(step: Double, count: Int) -> [Int] {
        let day = Int((86_400 / step).rounded())
        return [day, 7 * day].filter { $0 >= 2 && $0 * 4 <= count }
    }
}
