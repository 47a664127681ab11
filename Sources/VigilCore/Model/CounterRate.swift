// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A cumulative counter (requests served, CPU seconds used, bytes sent since the process started) read as its
/// increase per second, as Prometheus's `rate()` reads one: its raw value only grows, so it says nothing by
/// itself, while its rate is the load, the CPU or the traffic. A fall is a restart from zero, so the new value
/// is all of the increase.
public struct CounterRate: Sendable, Equatable, Codable {
    /// The last sample's time (Unix seconds) and value, if one came.
    public private(set) var last: Sample?

    /// One sample of the counter.
    public struct Sample: Sendable, Equatable, Codable {
        public var seconds: Double
        public var value: Double
    }

    /// A counter with no sample yet.
    public init() {}

    /// Restores a counter whose last sample was `value` at `seconds`.
    public init(lastSeconds seconds: Double, value: Double) {
        self.last = Sample(seconds: seconds, value: value)
    }

    /// The increase per second since the last sample, or nil for the first sample or one no later than it
    /// (which is not kept).
    public mutating func rate(seconds: Double, value: Double) -> Double? {
        guard let last else {
            self.last = Sample(seconds: seconds, value: value)
            return nil
        }
        guard seconds > last.seconds else { return nil }
        self.last = Sample(seconds: seconds, value: value)
        return Self.increase(from: last.value, to: value) / (seconds - last.seconds)
    }

    /// What a counter's next sample says.
    public enum Reading: Sendable, Equatable {
        /// Its increase per second since the last sample.
        case rate(Double)
        /// Nothing yet: the first sample, or one no later than the last.
        case first
        /// It fell other than to restart: the series is no counter, whatever its name says.
        case notACounter
    }

    /// Reads the next sample of a series taken for a counter.
    public mutating func read(seconds: Double, value: Double) -> Reading {
        if let last, seconds > last.seconds, value < last.value, !Self.isRestart(from: last.value, to: value) {
            return .notACounter
        }
        return self.rate(seconds: seconds, value: value).map(Reading.rate) ?? .first
    }

    /// How much a counter grew from `before` to `after`: the difference, or `after` itself when it fell (the
    /// counter restarted from zero).
    public static func increase(from before: Double, to after: Double) -> Double {
        after >= before ? after - before : after
    }

    /// Whether a counter's fall from `before` to `after` can be a restart from zero: it lands below half of
    /// where it was. A series that falls less than that is no counter, whatever its name says (a gauge named
    /// `…_count`).
    public static func isRestart(from before: Double, to after: Double) -> Bool {
        after < 0.5 * before
    }

    /// Whether a metric's name says it is a cumulative counter: OpenMetrics' `_total`, and a histogram's or
    /// summary's `_count`, `_sum` and `_bucket`.
    public static func isCounter(name: String) -> Bool {
        Self.suffixes.contains { name.hasSuffix($0) }
    }

    static let suffixes = ["_total", "_count", "_sum", "_bucket"]
}
