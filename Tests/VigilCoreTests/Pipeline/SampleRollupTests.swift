// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@Suite struct SampleRollupTests {
    @Test func keepsTheLastValueOfEachBucket() {
        var rollup = SampleRollup(bucketSeconds: 10)
        let series = SeriesKey(name: "up", labels: [.init("job", "node")])
        rollup.add(
            (0..<25).map { MetricPoint(series: series, time: Timestamp(seconds: 1000 + Double($0)), value: Double($0)) }
        )
        let points = rollup.take().sorted { $0.time < $1.time }
        #expect(points.map(\.time.wholeSeconds) == [1000, 1010, 1020])
        #expect(points.map(\.value) == [9, 19, 24])
        #expect(rollup.isEmpty)
    }

    @Test func lateAndInterleavedSamplesLandInTheirOwnBuckets() {
        var rollup = SampleRollup(bucketSeconds: 10)
        let a = SeriesKey(name: "a")
        let b = SeriesKey(name: "b")
        func point(_ series: SeriesKey, _ second: Double, _ value: Double) -> MetricPoint {
            MetricPoint(series: series, time: Timestamp(seconds: second), value: value)
        }
        rollup.add([point(a, 1001, 1), point(b, 1002, 2), point(a, 1011, 3), point(a, 1005, 4), point(b, 995, 5)])
        rollup.add([point(a, 1012, 6), point(b, 1003, 7)])
        let points = rollup.take().sorted { ($0.series.name, $0.time) < ($1.series.name, $1.time) }
        #expect(
            points.map { "\($0.series.name)@\($0.time.wholeSeconds)=\($0.value)" } == [
                "a@1000=4.0", "a@1010=6.0", "b@990=5.0", "b@1000=7.0",
            ]
        )
        #expect(rollup.isEmpty && rollup.take().isEmpty)
    }

    @Test func seriesKeysHashByTheirText() {
        let a = SeriesKey(name: "x", labels: [.init("b", "2"), .init("a", "1")])
        let b = SeriesKey(name: "x", labels: [.init("a", "1"), .init("b", "2")])
        #expect(a == b && a.hashValue == b.hashValue)
        #expect(a.stableHash == StableHashProbe.of(a.text))
        #expect(SeriesKey(name: "x", labels: [.init("a", "1"), .init("a", "3")]).labels == [.init("a", "3")])
    }
}

/// FNV-1a with the murmur finaliser, as `StableHash` computes it, to check the incremental hash.
enum StableHashProbe {
    static func of(_ text: String) -> UInt64 {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var x = state
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x &*= 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return x
    }
}
