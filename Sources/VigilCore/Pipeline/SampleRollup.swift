// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// What the store keeps of a metric series: the last value of each bucket of data time (10 s by default), stored
/// at the bucket's start, so a series sent 100 times a second costs the store one row per bucket while the
/// detectors still see every sample. Writing a bucket again replaces it, so flushing often is safe. The shard
/// rolls up the series it judges itself, in the same lookup as their detectors (``PipelineShard/takeSamples()``);
/// this is for series that skip the detectors (the span-derived ones).
public struct SampleRollup: Sendable {
    /// The bucket length in seconds.
    public let bucketSeconds: Int64
    /// The buckets touched since the last ``take()``, in the order first touched.
    private var points: [MetricPoint] = []
    /// Where each series' latest bucket sits in `points`.
    private var latest: [SeriesKey: Int] = [:]

    public init(bucketSeconds: Int64 = 10) {
        self.bucketSeconds = bucketSeconds
    }

    /// Takes samples in arrival order.
    public mutating func add(_ points: [MetricPoint]) {
        let length = self.bucketSeconds * 1_000_000_000
        for point in points {
            let time = point.time.nanoseconds
            let bucket = Timestamp(nanoseconds: time - ((time % length) + length) % length)
            // The series' latest bucket is replaced when it is this one; a later bucket is appended.
            let index = self.latest[point.series]
            if let index, self.points[index].time == bucket {
                self.points[index].value = point.value
                continue
            }
            if let index, bucket < self.points[index].time {
                // A late sample for an older bucket (rare): replace it if this batch holds it, else add it.
                if let earlier = self.points.lastIndex(where: { $0.series == point.series && $0.time == bucket }) {
                    self.points[earlier].value = point.value
                    continue
                }
            } else {
                self.latest[point.series] = self.points.count
            }
            self.points.append(MetricPoint(series: point.series, time: bucket, value: point.value))
        }
    }

    /// Whether nothing is waiting.
    public var isEmpty: Bool { self.points.isEmpty }

    /// The buckets touched since the last call, each at its start with its last value.
    public mutating func take() -> [MetricPoint] {
        defer {
            self.points = []
            self.latest.removeAll(keepingCapacity: true)
        }
        return self.points
    }
}
