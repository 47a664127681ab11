// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Forecasts a series a few steps ahead with a prediction interval, choosing its model by backtest.
///
/// `fit` tries, for the season lengths it is given: seasonal naive (the same time one season ago), Holt-Winters
/// without a season, and Holt-Winters with an additive and a multiplicative season, each with its parameters
/// fitted by grid search on the first three quarters of the history (one-step squared error). Every candidate
/// is then run through the last quarter as it would have been used (rolling origin, learning each point after
/// forecasting from it), and the one with the lowest mean absolute error over the horizon wins. The intervals
/// are the quantiles of that candidate's own backtest errors at each step, so they are as wide as its misses
/// were. After fitting, `update` learns new points in O(1) and `forecast` is O(horizon).
public struct Forecaster: Sendable, Codable {
    /// One forecast step.
    public struct Step: Sendable, Equatable {
        /// Steps ahead of the last point learnt (1 is the next point).
        public var steps: Int
        /// The point forecast.
        public var value: Double
        /// The lower edge of the interval.
        public var lower: Double
        /// The upper edge of the interval.
        public var upper: Double
    }

    /// A candidate model.
    public enum Model: Sendable, Codable, Equatable {
        /// The value one season (`period` points) earlier.
        case seasonalNaive(SeasonalNaive)
        /// Holt-Winters exponential smoothing.
        case holtWinters(HoltWinters)

        func forecast(steps: Int) -> Double {
            switch self {
            case .seasonalNaive(let model): model.forecast(steps: steps)
            case .holtWinters(let model): model.forecast(steps: steps)
            }
        }

        mutating func update(_ value: Double) {
            switch self {
            case .seasonalNaive(var model):
                model.update(value)
                self = .seasonalNaive(model)
            case .holtWinters(var model):
                model.update(value)
                self = .holtWinters(model)
            }
        }

        /// A short description: "holt-winters additive period 288 α 0.2 β 0.02 γ 0.1 φ 0.9".
        public var summary: String {
            switch self {
            case .seasonalNaive(let model): return "seasonal naive, period \(model.period)"
            case .holtWinters(let model):
                let p = model.parameters
                var text =
                    p.seasonality == .none
                    ? "holt-winters, no season" : "holt-winters, \(p.seasonality.rawValue) season"
                if p.seasonality != .none { text += " of \(p.period) points" }
                text += p.phi > 0 ? ", damped trend (φ \(p.phi))" : ", no trend"
                return text + ", α \(p.alpha) β \(p.beta) γ \(p.gamma)"
            }
        }
    }

    /// The chosen model, positioned after the last point learnt.
    public private(set) var model: Model
    /// Points forecast ahead.
    public let horizon: Int
    /// Backtest mean absolute error of the chosen model over the horizon.
    public let backtestError: Double
    /// Per step, the error quantiles that make the interval.
    private let lowerErrors: [Double]
    private let upperErrors: [Double]

    /// Fits a forecaster to a history; nil when it has fewer than 20 points.
    /// - Parameters:
    ///   - periods: candidate season lengths in points (a day and a week of samples, say); too long ones are skipped.
    ///   - coverage: the share of future points the interval should hold (0.8 for an 80 % interval).
    public static func fit(_ values: [Double], periods: [Int], horizon: Int, coverage: Double = 0.8) -> Forecaster? {
        let horizon = max(1, horizon)
        guard values.count >= 20 else { return nil }
        let split = values.count * 3 / 4
        let training = values[..<split]
        var candidates: [Model] = []
        for period in periods where period >= 2 && split >= 3 * period {
            candidates.append(.seasonalNaive(SeasonalNaive(period: period, initial: training)))
        }
        candidates.append(.seasonalNaive(SeasonalNaive(period: 1, initial: training)))
        var shapes: [(HoltWinters.Seasonality, Int)] = [(.none, 1)]
        for period in periods where period >= 2 && split >= 3 * period {
            shapes.append((.additive, period))
            shapes.append((.multiplicative, period))
        }
        for (seasonality, period) in shapes {
            if let model = Self.bestHoltWinters(training, seasonality: seasonality, period: period) {
                candidates.append(.holtWinters(model))
            }
        }
        var best: (model: Model, error: Double, misses: [[Double]])?
        for candidate in candidates {
            var model = candidate
            var misses = [[Double]](repeating: [], count: horizon)
            var total = 0.0
            var counted = 0
            for origin in split..<values.count {
                for step in 1...horizon where origin + step - 1 < values.count {
                    let miss = values[origin + step - 1] - model.forecast(steps: step)
                    misses[step - 1].append(miss)
                    total += abs(miss)
                    counted += 1
                }
                model.update(values[origin])
            }
            let error = counted > 0 ? total / Double(counted) : .infinity
            guard error.isFinite else { continue }
            if best == nil || error < best!.error { best = (model, error, misses) }
        }
        guard let best else { return nil }
        let tail = (1 - coverage) / 2
        var lower: [Double] = []
        var upper: [Double] = []
        for misses in best.misses {
            let sorted = misses.sorted()
            lower.append(Self.quantile(sorted, tail))
            upper.append(Self.quantile(sorted, 1 - tail))
        }
        return Forecaster(
            model: best.model,
            horizon: horizon,
            backtestError: best.error,
            lowerErrors: lower,
            upperErrors: upper
        )
    }

    /// The forecasts for steps 1…horizon after the last point learnt.
    public func forecast() -> [Step] {
        (1...self.horizon).map { self.forecast(steps: $0) }
    }

    /// The forecast for one step ahead of the last point learnt (1…horizon).
    public func forecast(steps: Int) -> Step {
        let step = min(max(1, steps), self.horizon)
        let value = self.model.forecast(steps: step)
        return Step(
            steps: step,
            value: value,
            lower: value + self.lowerErrors[step - 1],
            upper: value + self.upperErrors[step - 1]
        )
    }

    /// Learns the next point.
    public mutating func update(_ value: Double) {
        self.model.update(value)
    }

    /// The Holt-Winters parameters with the lowest one-step squared error on `values`, started from its start.
    static func bestHoltWinters(
        _ values: ArraySlice<Double>,
        seasonality: HoltWinters.Seasonality,
        period: Int
    ) -> HoltWinters? {
        let alphas = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9]
        let trends: [(beta: Double, phi: Double)] = [(0, 0), (0.02, 0.9), (0.1, 0.95)]
        let gammas = seasonality == .none ? [0.0] : [0.02, 0.05, 0.1, 0.2, 0.4]
        let start = values.startIndex + (seasonality == .none ? 2 : 2 * period)
        var best: (model: HoltWinters, error: Double)?
        for alpha in alphas {
            for trend in trends {
                for gamma in gammas {
                    let parameters = HoltWinters.Parameters(
                        alpha: alpha,
                        beta: trend.beta,
                        gamma: gamma,
                        phi: trend.phi,
                        period: period,
                        seasonality: seasonality
                    )
                    guard var model = HoltWinters(parameters: parameters, initial: values) else { return nil }
                    var error = 0.0
                    for index in start..<values.endIndex {
                        let miss = values[index] - model.forecast(steps: 1)
                        error += miss * miss
                        model.update(values[index])
                    }
                    if error.isFinite && (best == nil || error < best!.error) { best = (model, error) }
                }
            }
        }
        return best?.model
    }

    /// The q-quantile of sorted values (linear interpolation); 0 when empty.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let position = q * Double(sorted.count - 1)
        let index = Int(position)
        let fraction = position - Double(index)
        return index + 1 < sorted.count ? sorted[index] + fraction * (sorted[index + 1] - sorted[index]) : sorted[index]
    }
}

/// The value one season earlier: the benchmark every seasonal forecast must beat. Period 1 is the naive
/// forecast (the last value).
public struct SeasonalNaive: Sendable, Codable, Equatable {
    /// Points per season.
    public let period: Int
    private var recent: [Double]
    private var next = 0

    /// Starts from the last `period` points of `initial` (missing ones count as its first value).
    public init(period: Int, initial: ArraySlice<Double>) {
        self.period = max(1, period)
        let fill = initial.first ?? 0
        self.recent = [Double](repeating: fill, count: self.period)
        for value in initial.suffix(self.period) { self.update(value) }
    }

    /// The forecast `steps` points ahead: the value at the same phase in the last season seen.
    public func forecast(steps: Int) -> Double {
        self.recent[(self.next + (steps - 1) % self.period) % self.period]
    }

    /// Learns the next point.
    public mutating func update(_ value: Double) {
        self.recent[self.next] = value
        self.next = (self.next + 1) % self.period
    }
}
