// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore
import VigilIngest

@Suite struct RemoteWriteTests {
    @Test func roundTripsAndDropsStalenessMarkers() throws {
        let cpu = SeriesKey(name: "node_cpu_seconds_total", labels: [.init("cpu", "0"), .init("mode", "idle")])
        let up = SeriesKey(name: "up", labels: [.init("job", "node")])
        let points = [
            MetricPoint(series: cpu, time: Timestamp(nanoseconds: 1_700_000_000_123_000_000), value: 1234.5),
            MetricPoint(series: up, time: Timestamp(nanoseconds: 1_700_000_000_000_000_000), value: 1),
            MetricPoint(
                series: up,
                time: Timestamp(nanoseconds: 1_700_000_015_000_000_000),
                value: Double(bitPattern: RemoteWrite.staleMarker)
            ),
        ]
        let decoded = try RemoteWrite.decode(RemoteWrite.encode(points))
        #expect(decoded.points == Array(points.prefix(2)))
        #expect(decoded.staleMarkers == 1)
    }

    @Test func stampedTemplatesDecodeWithTheirNewTimestamps() throws {
        let series = SeriesKey(name: "up", labels: [.init("job", "node")])
        var (bytes, offsets) = RemoteWrite.template([
            MetricPoint(series: series, time: Timestamp(nanoseconds: 0), value: 1)
        ])
        RemoteWrite.stamp(&bytes, offsets: offsets, milliseconds: 1_700_000_000_123)
        let decoded = try RemoteWrite.decode(Snappy.compress(bytes), cache: RemoteWrite.SeriesCache())
        #expect(
            decoded.points == [
                MetricPoint(series: series, time: Timestamp(nanoseconds: 1_700_000_000_123_000_000), value: 1)
            ]
        )
    }

    @Test func compressedTemplatesAreStampedWithoutCompressingAgain() throws {
        let points = (0..<300).map {
            MetricPoint(
                series: SeriesKey(name: "m", labels: [.init("job", "node"), .init("i", "\($0)")]),
                time: Timestamp(nanoseconds: 0),
                value: Double($0 % 4)
            )
        }
        var (bytes, positions) = RemoteWrite.compressedTemplate(points)
        #expect(positions.count == 8 * points.count)
        #expect(bytes.count < RemoteWrite.template(points).bytes.count / 2)
        for milliseconds: Int64 in [1_700_000_000_123, 1_700_000_000_124, 1_800_000_000_000] {
            RemoteWrite.stamp(&bytes, positions: positions, milliseconds: milliseconds)
            let decoded = try RemoteWrite.decode(bytes)
            #expect(decoded.points.map(\.series) == points.map(\.series))
            #expect(decoded.points.allSatisfy { $0.time.nanoseconds == milliseconds * 1_000_000 })
            #expect(decoded.points.map(\.value) == points.map(\.value))
        }
    }

    @Test func theSeriesCacheGivesTheSameKeys() throws {
        let cache = RemoteWrite.SeriesCache()
        let points = (0..<50).map {
            MetricPoint(
                series: SeriesKey(name: "m", labels: [.init("i", "\($0 % 7)")]),
                time: Timestamp(nanoseconds: Int64($0) * 1_000_000),
                value: Double($0)
            )
        }
        let body = RemoteWrite.encode(points)
        #expect(try RemoteWrite.decode(body, cache: cache).points == points)
        #expect(try RemoteWrite.decode(body, cache: cache).points == points)  // now from the cache
    }

    @Test func refusesSeriesWithoutAName() {
        let nameless = RemoteWrite.encode([
            MetricPoint(series: SeriesKey(name: ""), time: Timestamp(nanoseconds: 0), value: 1)
        ])
        #expect(throws: IngestError.self) { try RemoteWrite.decode(nameless) }
    }

    /// 100,000 mutated requests never crash the decoder.
    @Test func survivesOneHundredThousandMutatedRequests() {
        let seed = RemoteWrite.encode(
            (0..<30).map {
                MetricPoint(
                    series: SeriesKey(name: "http_requests_total", labels: [.init("code", "\(200 + $0 % 3)")]),
                    time: Timestamp(nanoseconds: Int64($0) * 1_000_000_000),
                    value: Double($0)
                )
            }
        )
        var mutation = Mutation(seed: 11)
        // Through the series cache, as the server decodes: mutated labels must miss it, never match wrongly.
        let cache = RemoteWrite.SeriesCache()
        let decoded = mutation.count(100_000, seeds: [seed]) { _ = try RemoteWrite.decode($0, cache: cache) }
        #expect(decoded > 0 && decoded < 100_000)
    }
}
