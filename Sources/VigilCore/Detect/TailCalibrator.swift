// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import RealModule

/// Turns a non-negative surprise statistic into a calibrated tail probability learned from the statistic's own
/// history, so a raw deviation of "7 spreads" on a spiky series and on a calm one mean what they should.
///
/// The history is a histogram over log-spaced buckets (four per doubling) with exponential forgetting; the
/// upper 3 % is modelled as an exponential tail fitted to its mean excess (the peaks-over-threshold idea behind
/// SPOT), so values beyond anything seen still get ever smaller probabilities instead of all tying at 1/n.
/// `add` is O(1) (forgetting is lazy: new points weigh more); the table of tail probabilities is rebuilt every
/// 64 points, so `surprise` is a table lookup. About 460 bytes, all inline: no allocation and no
/// copy-on-write check per point.
public struct TailCalibrator: Sendable, PackedCodable, Equatable {
    static let bucketCount = 48
    /// Statistics at or below this fall in bucket 0.
    static let floor = 0.0625
    static let refreshEvery = 64
    /// The fitted tail never falls faster than a factor e per this much of the statistic: a statistic that was
    /// almost always 0 (a step series between its steps) must not make every small step look impossible.
    static let minimumTailScale = 0.5
    static let log10OfE = 0.434_294_481_903_251_8

    /// Weighted counts per bucket, in units of `weight` at the time they were added.
    private var mass = InlineArray<48, Float>(repeating: 0)  // 48 = bucketCount
    /// −log10 P(U ≥ lower edge of bucket), rebuilt every `refreshEvery` points.
    private var tailLog10 = InlineArray<48, Float>(repeating: 0)
    private var total: Double = 0
    private var weight: Double = 1
    private var sinceRefresh = 0
    /// Where the fitted exponential tail starts, its −log10 probability there and its scale.
    private var tailStart = Double.infinity
    private var tailStartLog10 = 0.0
    private var tailScale = 1.0
    private var seen = 0
    /// Per-point forgetting: history weighs `exp(−forgetting · age)`.
    public let forgetting: Double
    /// 1 / (1 − forgetting): how much more each new point weighs than the one before.
    private let growth: Double

    /// Creates an empty calibrator; `forgetting` of 0.0005 keeps about the last 2,000 points.
    public init(forgetting: Double = 0.0005) {
        self.forgetting = forgetting
        self.growth = 1 / (1 - forgetting)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.forgetting == rhs.forgetting && lhs.total == rhs.total && lhs.weight == rhs.weight
            && lhs.sinceRefresh == rhs.sinceRefresh && lhs.tailStart == rhs.tailStart
            && lhs.tailStartLog10 == rhs.tailStartLog10 && lhs.tailScale == rhs.tailScale && lhs.seen == rhs.seen
            && lhs.mass.indices.allSatisfy { lhs.mass[$0] == rhs.mass[$0] }
            && lhs.tailLog10.indices.allSatisfy { lhs.tailLog10[$0] == rhs.tailLog10[$0] }
    }

    /// Appends the state to a checkpoint record.
    func write(to writer: inout PackedWriter) {
        writer.write(self.forgetting)
        writer.write(self.mass.indices.map { self.mass[$0] })
        writer.write(self.tailLog10.indices.map { self.tailLog10[$0] })
        writer.write(self.total)
        writer.write(self.weight)
        writer.write(self.sinceRefresh)
        writer.write(self.tailStart)
        writer.write(self.tailStartLog10)
        writer.write(self.tailScale)
        writer.write(self.seen)
    }

    /// Reads what ``write(to:)`` wrote.
    init(reading reader: inout PackedReader) throws {
        self.init(forgetting: try reader.double())
        let mass = try reader.floats(count: Self.bucketCount)
        let tailLog10 = try reader.floats(count: Self.bucketCount)
        for index in 0..<Self.bucketCount {
            self.mass[index] = mass[index]
            self.tailLog10[index] = tailLog10[index]
        }
        self.total = try reader.double()
        self.weight = try reader.double()
        self.sinceRefresh = try reader.int()
        self.tailStart = try reader.double()
        self.tailStartLog10 = try reader.double()
        self.tailScale = try reader.double()
        self.seen = try reader.int()
    }

    /// Bytes held, both tables included.
    public var stateBytes: Int { MemoryLayout<Self>.size }

    /// −log10 of the probability of a statistic at least `u` under the learned distribution (0 until 20 points
    /// have been seen).
    @inline(__always)
    public func surpriseLog10(_ u: Double) -> Double {
        guard self.seen > 20 else { return 0 }
        if u > self.tailStart {
            return self.tailStartLog10 + (u - self.tailStart) / self.tailScale * Self.log10OfE
        }
        return Double(self.tailLog10[Self.bucket(of: u)])
    }

    /// The smallest statistic whose surprise reaches `surpriseLog10`: where the fitted tail reaches it, or the lower
    /// edge of the first bucket that does (infinity until 20 points have been seen).
    @inline(__always)
    public func statistic(reaching surpriseLog10: Double) -> Double {
        guard self.seen > 20 else { return .infinity }
        if surpriseLog10 >= self.tailStartLog10 {
            return self.tailStart + (surpriseLog10 - self.tailStartLog10) * (1 / Self.log10OfE) * self.tailScale
        }
        // The table rises with the bucket: halve the span until the first bucket that reaches it.
        var (low, high) = (0, Self.bucketCount - 1)
        while low < high {
            let middle = (low + high) / 2
            if Double(self.tailLog10[middle]) >= surpriseLog10 { high = middle } else { low = middle + 1 }
        }
        return Double(self.tailLog10[low]) >= surpriseLog10 ? Self.edges[low].lower : self.tailStart
    }

    /// −log10 of the tail probability of `u` (as ``surpriseLog10(_:)``), then learns it when `learning`: one
    /// call per point.
    @inline(__always)
    public mutating func judge(_ u: Double, learning: Bool = true) -> Double {
        let surprise = self.surpriseLog10(u)
        if learning { self.add(u) }
        return surprise
    }

    /// Learns one statistic.
    @inline(__always)
    public mutating func add(_ u: Double) {
        self.seen += 1
        self.weight *= self.growth
        if self.weight > 1e12 {
            let scale = 1 / self.weight
            for index in self.mass.indices { self.mass[index] *= Float(scale) }
            self.total *= scale
            self.weight = 1
        }
        self.mass[Self.bucket(of: u)] += Float(self.weight)
        self.total += self.weight
        self.sinceRefresh += 1
        if self.sinceRefresh >= Self.refreshEvery || self.seen == 21 { self.refresh() }
    }

    /// Rebuilds the tail table and the exponential tail from the histogram.
    private mutating func refresh() {
        self.sinceRefresh = 0
        let total = self.total + self.weight
        var above = 0.0
        var tailBucket = 0
        var tailMass = 0.0
        var index = Self.bucketCount - 1
        // Runs of empty buckets share one probability: its logarithm is taken once.
        var lastProbability = -1.0
        var lastLog10: Float = 0
        while index >= 0 {
            above += Double(self.mass[index])
            // Half of a bucket's own mass counts: the statistic is anywhere inside it.
            let probability = (above - Double(self.mass[index]) / 2 + 0.5 * self.weight) / total
            if probability != lastProbability {
                lastProbability = probability
                lastLog10 = Float(-Self.fastLog10(probability))
            }
            self.tailLog10[index] = lastLog10
            if tailBucket == 0 && above > 0.03 * self.total {
                tailBucket = min(index + 1, Self.bucketCount - 1)
                tailMass = above - Double(self.mass[index])
            }
            index -= 1
        }
        let edges = Self.edges
        let start = edges[tailBucket].lower
        var excess = 0.0
        for bucket in tailBucket..<Self.bucketCount {
            excess += Double(self.mass[bucket]) * (edges[bucket].center - start)
        }
        self.tailStart = start
        self.tailStartLog10 = -Self.fastLog10((tailMass + 0.5 * self.weight) / total)
        self.tailScale = max(excess / max(tailMass, 1e-12), 0.25 * start, Self.minimumTailScale)
    }

    /// log10 to about 1e-5 for positive finite values (the refresh takes 48 of them; libm's is several times
    /// slower): the binary exponent plus the atanh series of the significand.
    @inline(__always)
    static func fastLog10(_ value: Double) -> Double {
        guard value > 1e-300 else { return -300 }
        let (exponent, significand) = Self.split(value)
        let y = (significand - 1) / (significand + 1)
        let y2 = y * y
        let naturalOfSignificand = 2 * y * (1 + y2 * (1.0 / 3 + y2 * (1.0 / 5 + y2 * (1.0 / 7 + y2 / 9))))
        return (naturalOfSignificand + Double(exponent) * 0.693_147_180_559_945_3) * Self.log10OfE
    }

    /// The binary exponent and the significand in [1, 2) of a positive normal value, read from its bits.
    @inline(__always)
    static func split(_ value: Double) -> (exponent: Int, significand: Double) {
        let bits = value.bitPattern
        let exponent = Int((bits >> 52) & 0x7FF) - 1023
        let significand = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
        return (exponent, significand)
    }

    /// The bucket of a statistic: four per doubling above `floor`, read from the bits of the value (no
    /// logarithm on the hot path).
    @inline(__always)
    static func bucket(of u: Double) -> Int {
        guard u > Self.floor else { return 0 }
        guard u < 1e300 else { return Self.bucketCount - 1 }
        let (exponent, significand) = Self.split(u * (1 / Self.floor))
        let quarter =
            significand < 1.189_207_115 ? 0 : significand < 1.414_213_562 ? 1 : significand < 1.681_792_831 ? 2 : 3
        return min(Self.bucketCount - 1, exponent * 4 + quarter + 1)
    }

    /// Each bucket's lower edge and centre.
    static let edges: [(lower: Double, center: Double)] = (0..<bucketCount).map {
        bucket -> (lower: Double, center: Double) in
        guard bucket > 0 else { return (0, Self.floor / 2) }
        let lower: Double = Self.floor * Double.exp2(Double(bucket - 1) / 4)
        let center: Double = Self.floor * Double.exp2((Double(bucket) - 0.5) / 4)
        return (lower, center)
    }
}
