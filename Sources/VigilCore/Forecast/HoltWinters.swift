// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Holt-Winters exponential smoothing: a level, an optionally damped trend and an optional additive or
/// multiplicative season, updated one point at a time in O(1).
///
/// The equations are the textbook ones (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, §8.3
/// and §8.4): with season length m, `ℓ = α(y − s) + (1 − α)(ℓ + φb)`, `b = β(ℓ − ℓ₋₁) + (1 − β)φb`,
/// `s = γ(y − ℓ₋₁ − φb₋₁) + (1 − γ)s₋ₘ` (ratios instead of differences when multiplicative), and the forecast
/// h steps ahead `ℓ + (φ + … + φʰ)b` plus (or times) the season of that step.
public struct HoltWinters: Sendable, Codable, Equatable {
    /// How the season combines with level and trend.
    public enum Seasonality: String, Sendable, Codable, Equatable, CaseIterable {
        /// No season.
        case none
        /// The season adds a fixed amount at each phase.
        case additive
        /// The season scales the level at each phase (positive series only).
        case multiplicative
    }

    /// The smoothing parameters and the model's shape.
    public struct Parameters: Sendable, Codable, Equatable {
        /// Level smoothing, in (0, 1].
        public var alpha: Double
        /// Trend smoothing; 0 with `phi` 0 means no trend.
        public var beta: Double
        /// Season smoothing.
        public var gamma: Double
        /// Trend damping in [0, 1]: 1 is a straight trend, 0 no trend.
        public var phi: Double
        /// Points per season (1 when there is none).
        public var period: Int
        /// How the season combines.
        public var seasonality: Seasonality

        /// Creates a parameter set.
        public init(alpha: Double, beta: Double, gamma: Double, phi: Double, period: Int, seasonality: Seasonality) {
            self.alpha = alpha
            self.beta = beta
            self.gamma = gamma
            self.phi = phi
            self.period = seasonality == .none ? 1 : max(1, period)
            self.seasonality = seasonality
        }
    }

    public let parameters: Parameters
    private var level: Double
    private var trend: Double
    private var season: [Double]
    private var phase = 0

    /// Starts a model from its first points: at least two seasons of them when there is a season, else one.
    /// Returns nil when there are too few, or when a multiplicative season meets a value that is not positive.
    public init?(parameters: Parameters, initial: ArraySlice<Double>) {
        let m = parameters.period
        let needed = parameters.seasonality == .none ? 2 : 2 * m
        guard initial.count >= needed else { return nil }
        if parameters.seasonality == .multiplicative && initial.contains(where: { $0 <= 0 }) { return nil }
        self.parameters = parameters
        let start = initial.startIndex
        if parameters.seasonality == .none {
            self.level = initial[start + 1]
            self.trend = parameters.phi > 0 ? initial[start + 1] - initial[start] : 0
            self.season = [0]
            return
        }
        var first = 0.0
        var second = 0.0
        for index in 0..<m {
            first += initial[start + index]
            second += initial[start + m + index]
        }
        first /= Double(m)
        second /= Double(m)
        let trend = parameters.phi > 0 ? (second - first) / Double(m) : 0
        self.trend = trend
        // Each phase against the trend line through the two seasons, so a rising series does not leave a ramp
        // in the season.
        self.season = (0..<m).map { index in
            let offset = trend * (Double(index) - Double(m - 1) / 2)
            let early = initial[start + index]
            let late = initial[start + m + index]
            return parameters.seasonality == .additive
                ? ((early - first - offset) + (late - second - offset)) / 2
                : (early / (first + offset) + late / (second + offset)) / 2
        }
        // The level after the two initial seasons: their mean, moved to the end of the second.
        self.level = second + self.trend * Double(m - 1) / 2
        self.phase = 0
    }

    /// The forecast `steps` points after the last one learnt (steps ≥ 1).
    public func forecast(steps: Int) -> Double {
        let p = self.parameters
        var damping = 0.0
        var power = 1.0
        for _ in 0..<steps {
            power *= p.phi
            damping += power
        }
        let base = self.level + damping * self.trend
        switch p.seasonality {
        case .none: return base
        case .additive: return base + self.season[(self.phase + steps - 1) % p.period]
        case .multiplicative: return base * self.season[(self.phase + steps - 1) % p.period]
        }
    }

    /// Learns the next point.
    public mutating func update(_ value: Double) {
        let p = self.parameters
        let previousLevel = self.level
        let dampedTrend = p.phi * self.trend
        let seasonal = self.season[self.phase]
        switch p.seasonality {
        case .none:
            self.level = p.alpha * value + (1 - p.alpha) * (previousLevel + dampedTrend)
        case .additive:
            self.level = p.alpha * (value - seasonal) + (1 - p.alpha) * (previousLevel + dampedTrend)
            self.season[self.phase] = p.gamma * (value - previousLevel - dampedTrend) + (1 - p.gamma) * seasonal
        case .multiplicative:
            let deseasonalised = seasonal > 1e-12 ? value / seasonal : value
            self.level = p.alpha * deseasonalised + (1 - p.alpha) * (previousLevel + dampedTrend)
            let base = previousLevel + dampedTrend
            if abs(base) > 1e-12 {
                self.season[self.phase] = p.gamma * (value / base) + (1 - p.gamma) * seasonal
            }
        }
        self.trend = p.beta * (self.level - previousLevel) + (1 - p.beta) * dampedTrend
        self.phase = (self.phase + 1) % p.period
    }
}
