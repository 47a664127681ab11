// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Synchronization
public import VigilCore

#if canImport(Glibc)
import Glibc
#endif

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

    /// Decodes a request body. `cache` remembers series already seen (Prometheus sends the same series every
    /// scrape), so their labels are not turned into strings again.
    public static func decode(
        _ body: [UInt8],
        maximumDecodedBytes: Int = 64 << 20,
        cache: SeriesCache? = nil
    ) throws(IngestError) -> Decoded {
        let raw = try Snappy.decompress(body, maximumLength: maximumDecodedBytes)
        var points: [MetricPoint] = []
        var stale = 0
        var failure: IngestError?
        raw.withUnsafeBytes { buffer in
            do throws(IngestError) {
                try Self.decode(buffer, raw: raw, cache: cache, points: &points, stale: &stale)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return Decoded(points: points, staleMarkers: stale)
    }

    /// The loop of ``decode(_:maximumDecodedBytes:cache:)`` over the decompressed request in `buffer` (`raw`'s
    /// bytes): labels are offsets until a series is new to the cache.
    private static func decode(
        _ buffer: UnsafeRawBufferPointer,
        raw: [UInt8],
        cache: SeriesCache?,
        points: inout [MetricPoint],
        stale: inout Int
    ) throws(IngestError) {
        var request = ProtobufCursor(buffer, 0..<buffer.count)
        var seriesIndex = 0
        var labelRanges: [Range<Int>] = []
        var samples: [(Double, Int64)] = []
        while !request.isAtEnd {
            let (number, wireType) = try request.field()
            guard number == 1, wireType == 2 else {
                try request.skip(wireType: wireType)
                continue
            }
            var series = ProtobufCursor(buffer, try request.lengthDelimited())
            labelRanges.removeAll(keepingCapacity: true)
            samples.removeAll(keepingCapacity: true)
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            while !series.isAtEnd {
                let (field, type) = try series.field()
                switch (field, type) {
                case (1, 2):
                    let label = try series.lengthDelimited()
                    labelRanges.append(label)
                    hash = Self.mix(hash, UnsafeRawBufferPointer(rebasing: buffer[label]))
                case (2, 2):
                    var sample = ProtobufCursor(buffer, try series.lengthDelimited())
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
            let key: SeriesKey
            if let cached = cache?.lookup(hash: hash, labels: labelRanges, in: buffer) {
                key = cached
            } else {
                key = try Self.seriesKey(labelRanges.map { raw[$0] }, index: seriesIndex)
                cache?.store(hash: hash, labels: labelRanges, in: buffer, key: key)
            }
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
    }

    /// Mixes bytes into a hash eight at a time (in-process only: lookups are verified byte for byte).
    @inline(__always)
    static func mix(_ seed: UInt64, _ raw: UnsafeRawBufferPointer) -> UInt64 {
        var hash = seed ^ (UInt64(raw.count) &* 0x9E37_79B9_7F4A_7C15)
        var offset = 0
        while offset + 8 <= raw.count {
            let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            hash = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 29
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while offset < raw.count {
            tail |= UInt64(raw[offset]) << shift
            shift += 8
            offset += 1
        }
        hash = (hash ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return hash ^ (hash >> 32)
    }

    static func seriesKey(_ slices: [ArraySlice<UInt8>], index: Int) throws(IngestError) -> SeriesKey {
        var name: String?
        var labels: [SeriesKey.Label] = []
        for slice in slices {
            var label = ProtobufReader(slice)
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
                throw IngestError("remote_write: timeseries[\(index)] has a label without a name")
            }
            if labelName == "__name__" {
                name = labelValue
            } else {
                labels.append(.init(labelName, labelValue))
            }
        }
        guard let name, !name.isEmpty else {
            throw IngestError("remote_write: timeseries[\(index)] has no __name__ label")
        }
        return SeriesKey(name: name, labels: labels)
    }

    /// Series keys by the bytes of their labels, shared by all requests; cleared when it holds a million.
    public final class SeriesCache: Sendable {
        /// Slots by hash; each slot's label bytes and key sit at the same index of the two arrays.
        struct Entries {
            var slots: [UInt64: Int] = [:]
            var labels: [[UInt8]] = []
            var keys: [SeriesKey] = []
        }

        public static let capacity = 1_000_000
        private let entries = Mutex(Entries())

        public init() {}

        func lookup(hash: UInt64, labels: [Range<Int>], in buffer: UnsafeRawBufferPointer) -> SeriesKey? {
            self.entries.withLock { entries -> SeriesKey? in
                guard let slot = entries.slots[hash] else { return nil }
                // The stored bytes must be the same labels, byte for byte (compared in place, no copy).
                let matches = entries.labels[slot].withUnsafeBytes { stored -> Bool in
                    var offset = 0
                    for range in labels {
                        guard offset + range.count <= stored.count else { return false }
                        guard
                            range.isEmpty
                                || memcmp(
                                    stored.baseAddress! + offset,
                                    buffer.baseAddress! + range.lowerBound,
                                    range.count
                                ) == 0
                        else {
                            return false
                        }
                        offset += range.count
                    }
                    return offset == stored.count
                }
                return matches ? entries.keys[slot] : nil
            }
        }

        func store(hash: UInt64, labels: [Range<Int>], in buffer: UnsafeRawBufferPointer, key: SeriesKey) {
            var bytes: [UInt8] = []
            for range in labels { bytes += buffer[range] }
            self.entries.withLock { entries in
                if entries.keys.count >= Self.capacity { entries = Entries() }
                if let slot = entries.slots[hash] {
                    (entries.labels[slot], entries.keys[slot]) = (bytes, key)
                } else {
                    entries.slots[hash] = entries.keys.count
                    entries.labels.append(bytes)
                    entries.keys.append(key)
                }
            }
        }
    }

    /// An uncompressed request whose sample timestamps are written as padded 8-byte varints, with their
    /// offsets, so a load generator can give every round new timestamps (``stamp(_:offsets:milliseconds:)``)
    /// and compress it as Prometheus would.
    public static func template(_ points: [MetricPoint]) -> (bytes: [UInt8], timestampOffsets: [Int]) {
        var request = ProtobufWriter()
        var offsets: [Int] = []
        for point in points {
            var series = Self.labels(point.series)
            // Sample: value (key + 8 bytes) and timestamp (key + 8 padded varint bytes) = 18 bytes.
            series.varint(UInt64(2 << 3 | 2))
            series.varint(18)
            series.fixed64(1, point.value.bitPattern)
            series.varint(UInt64(2 << 3))
            let sampleOffset = series.bytes.count
            series.bytes += [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]
            request.varint(UInt64(1 << 3 | 2))
            request.varint(UInt64(series.bytes.count))
            offsets.append(request.bytes.count + sampleOffset)
            request.bytes += series.bytes
        }
        return (request.bytes, offsets)
    }

    /// A `TimeSeries` with its labels (`__name__` first), samples still to come.
    static func labels(_ key: SeriesKey) -> ProtobufWriter {
        var series = ProtobufWriter()
        for (name, value) in [("__name__", key.name)] + key.labels.map({ ($0.name, $0.value) }) {
            var label = ProtobufWriter()
            label.field(1, bytes: Array(name.utf8))
            label.field(2, bytes: Array(value.utf8))
            series.field(1, bytes: label.bytes)
        }
        return series
    }

    /// Writes `milliseconds` (below 2^56) into every timestamp of a ``template(_:)``.
    public static func stamp(_ bytes: inout [UInt8], offsets: [Int], milliseconds: Int64) {
        Self.stamp(&bytes, positions: offsets.flatMap { $0..<$0 + 8 }, milliseconds: milliseconds)
    }

    /// Writes `milliseconds` (below 2^56) into timestamps whose 8 bytes sit at `positions`, 8 per timestamp,
    /// in order: the bytes of a ``template(_:)`` or of a ``compressedTemplate(_:)``.
    public static func stamp(_ bytes: inout [UInt8], positions: [Int], milliseconds: Int64) {
        let value = UInt64(milliseconds)
        var groups: [UInt8] = []
        for index in 0..<8 {
            let group = UInt8(truncatingIfNeeded: value >> (7 * UInt64(index))) & 0x7F
            groups.append(index < 7 ? group | 0x80 : group)
        }
        for (index, position) in positions.enumerated() { bytes[position] = groups[index & 7] }
    }

    /// A snappy-compressed ``template(_:)`` whose timestamps stayed literals: `timestampPositions` are the bytes
    /// ``stamp(_:positions:milliseconds:)`` rewrites, so each send costs no compression.
    public static func compressedTemplate(_ points: [MetricPoint]) -> (bytes: [UInt8], timestampPositions: [Int]) {
        let (bytes, offsets) = Self.template(points)
        let compressed = Snappy.compress(bytes, keepingLiteral: offsets.map { $0..<$0 + 8 })
        return (compressed.bytes, compressed.literalPositions)
    }

    /// Encodes samples as a remote_write request (snappy-compressed), for tests and load generators.
    public static func encode(_ points: [MetricPoint]) -> [UInt8] {
        var request = ProtobufWriter()
        for point in points {
            var series = Self.labels(point.series)
            var sample = ProtobufWriter()
            sample.fixed64(1, point.value.bitPattern)
            sample.field(2, varint: UInt64(bitPattern: point.time.nanoseconds / 1_000_000))
            series.field(2, bytes: sample.bytes)
            request.field(1, bytes: series.bytes)
        }
        return Snappy.compress(request.bytes)
    }
}
