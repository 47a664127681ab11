// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// What the store keeps of a metric series: the last value of each bucket of data time (10 s by default), stored
/// at the bucket's start, so a series sent 100 times a second costs the store one row per bucket while the
/// detectors still see every sample. Writing a bucket again replaces it, so flushing often is safe.
public struct SampleRollup: Sendable {
    /// The bucket length in seconds.
    public let bucketSeconds: Int64
    private var touched: [SeriesKey: [Int64: Double]] = [:]

    public init(bucketSeconds: Int64 = 10) {
        self.bucketSeconds = bucketSeconds
    }

    /// Takes samples in arrival order.
    public mutating func add(_ points: [MetricPoint]) {
        let length = self.bucketSeconds * 1_000_000_000
        for point in points {
            let time = point.time.nanoseconds
            let bucket = time - ((time % length) + length) % length
            self.touched[point.series, default: [:]][bucket] = point.value
        }
    }

    /// Whether nothing is waiting.
    public var isEmpty: Bool { self.touched.isEmpty }

    /// The buckets touched since the last call, each at its start with its last value.
    public mutating func take() -> [MetricPoint] {
        var points: [MetricPoint] = []
        for (series, buckets) in self.touched {
            for (bucket, value) in buckets {
                points.append(MetricPoint(series: series, time: Timestamp(nanoseconds: bucket), value: value))
            }
        }
        self.touched = [:]
        return points
    }
}
