// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// Decodes Prometheus remote_write 1.0 (`POST /api/v1/write`): a snappy block holding a
/// `prometheus.WriteRequest` (`timeseries = 1` of `labels = 1` {name = 1, value = 2} and
/// `samples = 2` {value = 1 (double), timestamp = 2 (int64 ms)}; metadata ignored).
public enum RemoteWrite {
    /// Prometheus's staleness marker: a NaN with this bit pattern says "the series ended", it is not a value.
    public static let staleMarker: UInt64 = 0x7FF0_0000_0000_0002

    /// The decoded samples and how many staleness markers were left out.
    public struct Decoded: Sendable {
        /// Samples, in request order.
        public var points: [MetricPoint]
        /// Staleness markers seen (not samples).
        public var staleMarkers: Int
    }

    /// Decodes a request body.
    public static func decode(_ body: [UInt8], maximumDecodedBytes: Int = 64 << 20) throws(IngestError) -> Decoded {
        let raw = try Snappy.decompress(body, maximumLength: maximumDecodedBytes)
        var request = ProtobufReader(raw[...])
        var points: [MetricPoint] = []
        var stale = 0
        var seriesIndex = 0
        while !request.isAtEnd {
            let (number, wireType) = try request.field()
            guard number == 1, wireType == 2 else {
                try request.skip(wireType: wireType)
                continue
            }
            var series = ProtobufReader(try request.lengthDelimited())
            var name: String?
            var labels: [SeriesKey.Label] = []
            var samples: [(Double, Int64)] = []
            while !series.isAtEnd {
                let (field, type) = try series.field()
                switch (field, type) {
                case (1, 2):
                    var label = ProtobufReader(try series.lengthDelimited())
                    var labelName = ""
                    var labelValue = ""
                    while !label.isAtEnd {
                        let (labelField, labelType) = try label.field()
                        switch (labelField, labelType) {
                        case (1, 2): labelName = String(decoding: try label.lengthDelimited(), as: UTF8.self)
                        case (2, 2): labelValue = String(decoding: try label.lengthDelimited(), as: UTF8.self)
                        default: try label.skip(wireType: labelType)
                        }
                    }
                    guard !labelName.isEmpty else {
                        throw IngestError("remote_write: timeseries[\(seriesIndex)] has a label without a name")
                    }
                    if labelName == "__name__" {
                        name = labelValue
                    } else {
                        labels.append(.init(labelName, labelValue))
                    }
                case (2, 2):
                    var sample = ProtobufReader(try series.lengthDelimited())
                    var value = 0.0
                    var timestamp: Int64 = 0
                    while !sample.isAtEnd {
                        let (sampleField, sampleType) = try sample.field()
                        switch (sampleField, sampleType) {
                        case (1, 1): value = Double(bitPattern: try sample.fixed64())
                        case (2, 0): timestamp = Int64(bitPattern: try sample.varint())
                        default: try sample.skip(wireType: sampleType)
                        }
                    }
                    samples.append((value, timestamp))
                default:
                    try series.skip(wireType: type)
                }
            }
            guard let name, !name.isEmpty else {
                throw IngestError("remote_write: timeseries[\(seriesIndex)] has no __name__ label")
            }
            let key = SeriesKey(name: name, labels: labels)
            for (value, milliseconds) in samples {
                if value.bitPattern == staleMarker {
                    stale += 1
                    continue
                }
                let (nanoseconds, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
                guard !overflow else {
                    throw IngestError("remote_write: timeseries[\(seriesIndex)] has a timestamp out of range")
                }
                points.append(MetricPoint(series: key, time: Timestamp(nanoseconds: nanoseconds), value: value))
            }
            seriesIndex += 1
        }
        return Decoded(points: points, staleMarkers: stale)
    }

    /// Encodes samples as a remote_write request (snappy-compressed), for tests and load generators.
    public static func encode(_ points: [MetricPoint]) -> [UInt8] {
        var request = ProtobufWriter()
        for point in points {
            var series = ProtobufWriter()
            var name = ProtobufWriter()
            name.field(1, bytes: Array("__name__".utf8))
            name.field(2, bytes: Array(point.series.name.utf8))
            series.field(1, bytes: name.bytes)
            for label in point.series.labels {
                var encoded = ProtobufWriter()
                encoded.field(1, bytes: Array(label.name.utf8))
                encoded.field(2, bytes: Array(label.value.utf8))
                series.field(1, bytes: encoded.bytes)
            }
            var sample = ProtobufWriter()
            sample.fixed64(1, point.value.bitPattern)
            sample.field(2, varint: UInt64(bitPattern: point.time.nanoseconds / 1_000_000))
            series.field(2, bytes: sample.bytes)
            request.field(1, bytes: series.bytes)
        }
        return Snappy.compress(request.bytes)
    }
}
