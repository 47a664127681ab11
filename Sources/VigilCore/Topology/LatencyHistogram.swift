// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A mergeable latency histogram with log-spaced buckets (four per doubling, from 1 µs), accurate to about
/// ±10 % at every quantile, whatever the range.
public struct LatencyHistogram: Sendable, Equatable, Codable {
    /// Count per bucket index; bucket `i` holds durations in [2^(i/4), 2^((i+1)/4)) µs.
    public private(set) var counts: [Int: Int] = [:]
    public private(set) var count = 0
    public private(set) var sum = 0.0

    public init() {}

    /// Adds one duration in seconds.
    public mutating func add(_ seconds: Double) {
        guard seconds.isFinite, seconds >= 0 else { return }
        self.counts[Self.bucket(of: seconds), default: 0] += 1
        self.count += 1
        self.sum += seconds
    }

    /// Adds every observation of another histogram.
    public mutating func merge(_ other: LatencyHistogram) {
        for (bucket, count) in other.counts { self.counts[bucket, default: 0] += count }
        self.count += other.count
        self.sum += other.sum
    }

    /// The duration below which a share `q` of the observations fall, in seconds (bucket midpoint).
    public func quantile(_ q: Double) -> Double? {
        guard self.count > 0 else { return nil }
        let rank = max(1, Int((q * Double(self.count)).rounded(.up)))
        var seen = 0
        for bucket in self.counts.keys.sorted() {
            seen += self.counts[bucket]!
            if seen >= rank { return Self.midpoint(of: bucket) }
        }
        return Self.midpoint(of: self.counts.keys.max()!)
    }

    /// The mean duration in seconds.
    public var mean: Double? { self.count > 0 ? self.sum / Double(self.count) : nil }

    static let quarterSteps: [Double] = [1.189_207_115_002_721, 1.414_213_562_373_095, 1.681_792_830_507_429]

    static func bucket(of seconds: Double) -> Int {
        let micros = seconds * 1e6
        guard micros >= 1 else { return 0 }
        let significand = micros.significand
        var quarter = 0
        while quarter < 3 && significand >= Self.quarterSteps[quarter] { quarter += 1 }
        return Int(micros.exponent) * 4 + quarter
    }

    static func midpoint(of bucket: Int) -> Double {
        // Geometric middle of [2^(b/4), 2^((b+1)/4)) µs = 2^((b + 0.5)/4) µs.
        let whole = Double(sign: .plus, exponent: bucket / 4, significand: 1)
        let part = [1.090_507_732_665_258, 1.296_839_554_651_010, 1.542_210_825_407_941, 1.834_008_086_409_342][
            bucket % 4
        ]
        return whole * part / 1e6
    }
}
