// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The normal shape of a series over one period (a day, a week): a smoothed value per phase bin, plus an offset
/// that follows the series' current level, so "this hour on a Monday" is predicted from earlier Mondays.
///
/// Phase comes from the timestamps, so gaps and irregular sampling do not shift it. Bins never seen hold NaN and
/// predict nothing. 4 bytes per bin.
public struct SeasonalProfile: Sendable, Codable, Equatable {
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

    /// The bin of a time.
    @inline(__always)
    func bin(_ seconds: Int64) -> Int {
        var phase = seconds % self.period
        if phase < 0 { phase += self.period }
        return Int(phase * Int64(self.bins.count) / self.period)
    }

    /// Whether two full periods have been seen, enough for the profile to be trusted.
    public func isReady(at seconds: Int64) -> Bool {
        guard let first = self.firstSecond else { return false }
        return seconds - first >= 2 * self.period
    }

    /// The value expected at a time, or nil when its bin was never seen.
    public func predict(at seconds: Int64) -> Double? {
        let value = self.bins[self.bin(seconds)]
        return value.isNaN ? nil : Double(value) + self.offset
    }

    /// Learns a value at a time.
    public mutating func learn(_ value: Double, at seconds: Int64) {
        if self.firstSecond == nil { self.firstSecond = seconds }
        let index = self.bin(seconds)
        let old = self.bins[index]
        let shape = value - self.offset
        let updated = old.isNaN ? shape : Double(old) + 0.1 * (shape - Double(old))
        self.bins[index] = Float(updated)
        self.offset += 0.05 * (value - updated - self.offset)
    }
}
