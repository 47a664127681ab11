// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The normal shape of a series over one period (a day, a week): a smoothed value per phase bin, plus an offset
/// that follows the series' current level, so "this hour on a Monday" is predicted from earlier Mondays.
///
/// Phase comes from the timestamps, so gaps and irregular sampling do not shift it. Bins never seen hold NaN and
/// predict nothing. 4 bytes per bin.
public struct SeasonalProfile: Sendable, PackedCodable, Equatable {
    /// The period in seconds.
    public let period: Int64
    private var bins: [Float]
    private var offset = 0.0
    private var firstSecond: Int64?

    /// Creates an empty profile of `binCount` bins over `period` seconds.
    public init(period: Int64, binCount: Int) {
        self.period = period
        self.bins = [Float](repeating: .nan, count: binCount)
    }

    /// Appends the state to a checkpoint record.
    func write(to writer: inout PackedWriter) {
        writer.write(Int(self.period))
        writer.write(self.bins)
        writer.write(self.offset)
        writer.write(self.firstSecond.map { Int($0) } ?? Int.min)
    }

    /// Reads what ``write(to:)`` wrote.
    init(reading reader: inout PackedReader) throws {
        self.period = Int64(try reader.int())
        self.bins = try reader.floats()
        guard self.period > 0, !self.bins.isEmpty else { throw PackedReader.Failure(description: "bad profile") }
        self.offset = try reader.double()
        let first = try reader.int()
        self.firstSecond = first == Int.min ? nil : Int64(first)
    }

    /// Bytes held: the inline fields and the bins.
    public var stateBytes: Int { MemoryLayout<Self>.size + self.bins.count * 4 }

    /// The bin of a time: one integer remainder, then a multiply.
    @inline(__always)
    public func bin(at seconds: Int64) -> Int {
        var phase = seconds % self.period
        if phase < 0 { phase += self.period }
        return min(self.bins.count - 1, Int(Double(phase) * Double(self.bins.count) / Double(self.period)))
    }

    /// The time of the first point learnt, or nil before any.
    var firstSeen: Int64? { self.firstSecond }

    /// Whether two full periods have been seen, enough for the profile to be trusted.
    public func isReady(at seconds: Int64) -> Bool {
        guard let first = self.firstSecond else { return false }
        return seconds - first >= 2 * self.period
    }

    /// The value expected in a bin (from ``bin(at:)``), or nil when it was never seen.
    @inline(__always)
    public func predict(bin: Int) -> Double? {
        let value = self.bins[bin]
        return value.isNaN ? nil : Double(value) + self.offset
    }

    /// The value expected at a time, or nil when its bin was never seen.
    public func predict(at seconds: Int64) -> Double? {
        self.predict(bin: self.bin(at: seconds))
    }

    /// Learns a value at a time whose bin is known.
    @inline(__always)
    public mutating func learn(_ value: Double, at seconds: Int64, bin index: Int) {
        if self.firstSecond == nil { self.firstSecond = seconds }
        let old = self.bins[index]
        let shape = value - self.offset
        let updated = old.isNaN ? shape : Double(old) + 0.1 * (shape - Double(old))
        self.bins[index] = Float(updated)
        self.offset += 0.05 * (value - updated - self.offset)
    }

    /// Learns a value at a time.
    public mutating func learn(_ value: Double, at seconds: Int64) {
        self.learn(value, at: seconds, bin: self.bin(at: seconds))
    }
}
