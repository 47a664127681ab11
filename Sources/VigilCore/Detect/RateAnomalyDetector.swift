// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Scores a log template's per-minute rate point by point: how surprising each count is given the counts so far.
///
/// Metric series use ``MetricAnomalyDetector``; rates keep this simpler, time-free detector (ticks without lines
/// feed it zeros, and it needs no seasonal profile of its own yet): an exponentially weighted level and
/// spread give a robust deviation per point; the deviation's short-term mean is then compared with its own
/// long-run distribution (as HTM's anomaly likelihood does), so only a change in how surprising the series is
/// raises the score, not every noisy point. Alerts come in episodes: a warm-up, one alert per episode and a
/// cool-down. Everything is causal and O(1) per point with a few dozen bytes of state.
public struct RateAnomalyDetector: Sendable, Codable {
    /// Tuning knobs, one set for every series.
    public struct Configuration: Sendable, Codable {
        /// Weight of a new point in the level and spread (smaller is slower).
        public var baselineWeight: Double = 0.02
        /// Weight of a new deviation in its long-run mean and variance.
        public var surpriseWeight: Double = 0.002
        /// Points averaged into the short-term surprise.
        public var shortWindow: Int = 8
        /// Points during which no alert fires while the baseline forms.
        public var warmUp: Int = 150
        /// Points after an alert during which no new alert fires.
        public var coolDown: Int = 400
        /// Score at or above which an alert fires (0.6 is a tail probability of 1e-6).
        public var alertThreshold: Double = 0.6
        /// The spread never counts as smaller than this share of the range seen, so a flat series does not
        /// alarm on tiny wiggles.
        public var minimumRelativeSpread: Double = 0.02

        /// Creates the default configuration.
        public init() {}
    }

    /// The outcome for one point.
    public struct Result: Sendable, Equatable {
        /// A calibrated tail probability in [0, 1]: close to 1 is surprising.
        public var score: Double
        /// Whether an alert fires at this point.
        public var isAnomaly: Bool
    }

    public let configuration: Configuration
    private var count = 0
    private var level = 0.0
    private var spread = 0.0
    private var minimum = Double.infinity
    private var maximum = -Double.infinity
    private var surpriseMean = 0.0
    private var surpriseVariance = 0.0
    private var deviationMean = 0.0
    private var deviationVariance = 0.0
    private var recent: [Double]
    private var recentIndex = 0
    private var pointsSinceAlert = Int.max / 2

    /// Creates a detector with no history.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.recent = [Double](repeating: 0, count: max(1, configuration.shortWindow))
    }

    /// The value the detector currently expects (its robust level).
    public var expected: Double { self.level }

    /// Half the width of the band of normal values around ``expected``: three robust spreads, never less than
    /// the floor that keeps flat series quiet.
    public var bandHalfWidth: Double {
        let floor = max(self.configuration.minimumRelativeSpread * (self.maximum - self.minimum), 1e-9)
        return 3 * max(self.spread, floor)
    }

    /// How many points the detector has seen.
    public var pointCount: Int { self.count }

    /// Scores `value`, then learns from it.
    public mutating func update(_ value: Double) -> Result {
        let config = self.configuration
        self.count += 1
        if self.count == 1 {
            self.level = value
            self.minimum = value
            self.maximum = value
            return Result(score: 0, isAnomaly: false)
        }
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        let floor = max(config.minimumRelativeSpread * (self.maximum - self.minimum), 1e-9)
        let deviation = abs(value - self.level) / max(self.spread, floor)

        self.recent[self.recentIndex] = deviation
        self.recentIndex = (self.recentIndex + 1) % self.recent.count
        let window = min(self.count - 1, self.recent.count)
        var shortTerm = 0.0
        for index in 0..<window { shortTerm += self.recent[index] }
        shortTerm /= Double(window)

        let standardDeviation = max(self.surpriseVariance.squareRoot(), 0.05)
        let z = (shortTerm - self.surpriseMean) / standardDeviation
        // A single extreme point (a spike) counts too, judged against single deviations rather than their mean.
        let zPoint = (deviation - self.deviationMean) / max(self.deviationVariance.squareRoot(), 0.05)
        // The tail probability on a log scale, so very unlikely points stay distinguishable: 1e-10 maps to 1.
        let tailLog10 = min(Self.upperTailLog10(z), Self.upperTailLog10(zPoint) + 2)
        let likelihood = self.count > 2 ? min(1, max(0, -tailLog10 / 10)) : 0

        // Learn after scoring: the point being judged never shapes its own baseline.
        let a = config.baselineWeight
        let error = value - self.level
        self.level += a * error
        self.spread += a * (abs(error) - self.spread)
        let b = config.surpriseWeight
        let surpriseError = shortTerm - self.surpriseMean
        self.surpriseMean += b * surpriseError
        self.surpriseVariance = (1 - b) * (self.surpriseVariance + b * surpriseError * surpriseError)
        let deviationError = min(deviation, 50) - self.deviationMean
        self.deviationMean += b * deviationError
        self.deviationVariance = (1 - b) * (self.deviationVariance + b * deviationError * deviationError)

        self.pointsSinceAlert += 1
        var alert = false
        let inCoolDown = self.pointsSinceAlert <= config.coolDown
        if self.count > config.warmUp && likelihood >= config.alertThreshold && !inCoolDown {
            alert = true
            self.pointsSinceAlert = 0
        }
        // Within an episode the score is halved: the alert already said it, repeats would only add noise.
        let score =
            self.count <= config.warmUp ? likelihood * 0.5 : (inCoolDown && !alert ? likelihood * 0.5 : likelihood)
        return Result(score: score, isAnomaly: alert)
    }

    /// log10 of the standard normal upper tail probability P(Z > z).
    static func upperTailLog10(_ z: Double) -> Double {
        if z < 0 { return log10(1 - normalCDF(-z)) }
        // erfc(x) ≈ t·poly(t)·e^(−x²) (Abramowitz & Stegun 7.1.26), kept in log form for large z.
        let x = z / 2.0.squareRoot()
        let t = 1 / (1 + 0.327_591_1 * x)
        let polynomial =
            t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))))
        return log10(0.5 * polynomial) - x * x / 2.302_585_092_994_046
    }

    /// log10 for positive finite values without Foundation.
    static func log10(_ value: Double) -> Double {
        guard value > 0 else { return -.infinity }
        // value = m · 2^e with m in [1, 2): ln(value) = ln(m) + e·ln 2, ln(m) by the atanh series.
        let exponent = Double(value.exponent)
        let mantissa = value.significand
        let y = (mantissa - 1) / (mantissa + 1)
        let y2 = y * y
        var term = y
        var sum = 0.0
        var k = 1.0
        while k < 40 {
            sum += term / k
            term *= y2
            k += 2
        }
        return (2 * sum + exponent * 0.693_147_180_559_945_3) / 2.302_585_092_994_046
    }

    /// The standard normal cumulative distribution function.
    static func normalCDF(_ z: Double) -> Double {
        // Abramowitz & Stegun 7.1.26 for erf, accurate to 1.5e-7.
        let x = abs(z) / 2.0.squareRoot()
        let t = 1 / (1 + 0.327_591_1 * x)
        let polynomial =
            t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))))
        let erf = 1 - polynomial * exponential(-x * x)
        return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf)
    }

    /// e^x for x ≤ 0 without Foundation: range reduction by powers of two, then a Taylor series.
    static func exponential(_ x: Double) -> Double {
        guard x > -700 else { return 0 }
        var reduced = x
        var halvings = 0
        while reduced < -0.5 {
            reduced /= 2
            halvings += 1
        }
        var term = 1.0
        var sum = 1.0
        for n in 1...12 {
            term *= reduced / Double(n)
            sum += term
        }
        for _ in 0..<halvings { sum *= sum }
        return sum
    }
}
