// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Watches a series that can run out (memory, disk, a quota) for a steady climb towards its limit, or a steady
/// fall towards it (free bytes towards 0), and predicts when it gets there, with an interval.
///
/// A least-squares line is fitted to the recent points with exponential forgetting (about `memory` points carry
/// the fit), in O(1) time and memory per point. The slope's standard error gives both the confidence that the
/// series is really rising and the interval of the crossing time: the limit is reached between the times the
/// line would reach it at slope + 2 se and at slope − 2 se. An alert fires once per episode when the climb is
/// significant and the limit is within the horizon.
public struct TrendDetector: Sendable, Codable {
    /// Tuning knobs.
    public struct Configuration: Sendable, Codable {
        /// The value the series must not reach (1.0 for a used ratio).
        public var limit: Double
        /// How many recent points carry the fit.
        public var memory: Double = 360
        /// Points before any prediction is made.
        public var warmUp: Int = 60
        /// Only crossings predicted within this many seconds alert (default 7 days).
        public var horizonSeconds: Double = 7 * 86_400
        /// The z-score of the slope needed to call the climb real.
        public var minimumZ: Double = 4
        /// Whether the series falls towards its limit instead of climbing to it.
        public var falling = false

        /// Creates a configuration for a limit, reached by climbing or, when `falling`, by falling.
        public init(limit: Double, falling: Bool = false) {
            self.limit = limit
            self.falling = falling
        }

        /// The limit a series' name says it has, or nil: a `…_used_ratio` runs out at 1, and free space falls to
        /// 0 (node_exporter's `node_filesystem_avail_bytes` and `node_memory_MemAvailable_bytes`, any
        /// `…_avail_bytes` or `…_available_bytes`).
        public static func named(_ name: some StringProtocol) -> Self? {
            if name.hasSuffix("_used_ratio") { return .init(limit: 1) }
            if name.hasSuffix("_avail_bytes") || name.hasSuffix("_available_bytes")
                || name.hasSuffix("MemAvailable_bytes")
            {
                return .init(limit: 0, falling: true)
            }
            return nil
        }

        /// Reads a configuration; one written before falling limits climbs.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.limit = try container.decode(Double.self, forKey: .limit)
            self.memory = try container.decode(Double.self, forKey: .memory)
            self.warmUp = try container.decode(Int.self, forKey: .warmUp)
            self.horizonSeconds = try container.decode(Double.self, forKey: .horizonSeconds)
            self.minimumZ = try container.decode(Double.self, forKey: .minimumZ)
            self.falling = try container.decodeIfPresent(Bool.self, forKey: .falling) ?? false
        }
    }

    /// A prediction of when the limit is reached.
    public struct Prediction: Sendable, Equatable {
        /// The fitted current value.
        public var level: Double
        /// The climb per second (negative for a fall).
        public var slopePerSecond: Double
        /// Seconds until the limit at the fitted slope.
        public var secondsToLimit: Double
        /// The earliest plausible crossing (slope + 2 standard errors), in seconds from now.
        public var earliestSeconds: Double
        /// The latest plausible crossing (slope − 2 standard errors), or infinity when a flat line is plausible.
        public var latestSeconds: Double
        /// How sure the detector is that the series is rising, in [0, 1].
        public var confidence: Double
    }

    public let configuration: Configuration
    private var origin: Double?
    private var slow = Fit()
    private var fast = Fit()
    private var count = 0
    private var alerted = false

    /// Creates a detector with no history.
    public init(configuration: Configuration) { self.configuration = configuration }

    /// Takes a point; returns a prediction when an alert should fire (once per episode).
    public mutating func update(time: Timestamp, value: Double) -> Prediction? {
        guard value.isFinite else { return nil }
        // A fall towards the limit is fitted as the climb of the negated series.
        let value = self.configuration.falling ? -value : value
        let seconds = time.seconds
        let origin = self.origin ?? seconds
        self.origin = origin
        let t = seconds - origin
        self.slow.add(t: t, value: value, memory: self.configuration.memory)
        self.fast.add(t: t, value: value, memory: self.configuration.memory / 3)
        self.count += 1
        guard let prediction = self.predict(at: t) else {
            self.alerted = false
            return nil
        }
        let fires =
            prediction.confidence >= RateAnomalyDetector.normalCDF(self.configuration.minimumZ)
            && prediction.secondsToLimit <= self.configuration.horizonSeconds
        defer { self.alerted = fires }
        return fires && !self.alerted ? prediction : nil
    }

    /// The current fit, if there is enough history and the series is climbing along a line: the recent third of
    /// the memory agrees with the whole, and the points scatter around the line no more than their own noise
    /// explains, so a one-off step (a deploy that needs more memory) is not taken for a leak.
    public func predict(at t: Double) -> Prediction? {
        guard self.count >= self.configuration.warmUp, let line = self.slow.line(at: t),
            let recent = self.fast.line(at: t)
        else { return nil }
        let (level, slope, standardError) = line
        let sign = self.configuration.falling ? -1.0 : 1.0
        let limit = sign * self.configuration.limit
        guard slope > 0, level < limit, recent.slope > 0.5 * slope, self.slow.isLinear() else {
            return nil
        }
        let remaining = limit - level
        let high = slope + 2 * standardError
        let low = slope - 2 * standardError
        return Prediction(
            level: sign * level,
            slopePerSecond: sign * slope,
            secondsToLimit: remaining / slope,
            earliestSeconds: remaining / high,
            latestSeconds: low > 0 ? remaining / low : .infinity,
            confidence: RateAnomalyDetector.normalCDF(slope / standardError)
        )
    }

    /// Exponentially forgotten least-squares sums.
    struct Fit: Sendable, Codable {
        var weight = 0.0
        var sumT = 0.0
        var sumV = 0.0
        var sumTT = 0.0
        var sumTV = 0.0
        var sumVV = 0.0
        /// Squared differences of consecutive values, to tell a line plus noise from a step.
        var sumSquaredSteps = 0.0
        var stepWeight = 0.0
        var last: Double?

        mutating func add(t: Double, value: Double, memory: Double) {
            let keep = 1 - 1 / max(2, memory)
            if let last = self.last {
                self.sumSquaredSteps = self.sumSquaredSteps * keep + (value - last) * (value - last)
                self.stepWeight = self.stepWeight * keep + 1
            }
            self.last = value
            self.weight = self.weight * keep + 1
            self.sumT = self.sumT * keep + t
            self.sumV = self.sumV * keep + value
            self.sumTT = self.sumTT * keep + t * t
            self.sumTV = self.sumTV * keep + t * value
            self.sumVV = self.sumVV * keep + value * value
        }

        /// Whether the points lie along the line: the scatter around it is no larger than the point-to-point noise
        /// explains (for a line plus noise, half the mean squared step equals the noise variance; a step or a
        /// curve leaves far more scatter around any line).
        func isLinear() -> Bool {
            let n = self.weight
            guard n > 2, self.stepWeight > 1 else { return false }
            let meanT = self.sumT / n
            let meanV = self.sumV / n
            let sxx = self.sumTT - n * meanT * meanT
            let sxy = self.sumTV - n * meanT * meanV
            let syy = self.sumVV - n * meanV * meanV
            guard sxx > 0 else { return false }
            let residual = max(0, syy - sxy * sxy / sxx) / (n - 2)
            let noise = self.sumSquaredSteps / self.stepWeight / 2
            return residual <= 4 * noise + 1e-12
        }

        /// The fitted value at `t`, the slope and its standard error.
        func line(at t: Double) -> (level: Double, slope: Double, standardError: Double)? {
            let n = self.weight
            guard n > 2 else { return nil }
            let meanT = self.sumT / n
            let meanV = self.sumV / n
            let sxx = self.sumTT - n * meanT * meanT
            let sxy = self.sumTV - n * meanT * meanV
            let syy = self.sumVV - n * meanV * meanV
            guard sxx > 0 else { return nil }
            let slope = sxy / sxx
            let residual = max(0, syy - slope * sxy) / (n - 2)
            // A perfectly straight line still gets a tiny error, so the z-score stays finite.
            let standardError = max((residual / sxx).squareRoot(), abs(slope) * 1e-6, 1e-15)
            return (meanV + slope * (t - meanT), slope, standardError)
        }
    }
}
