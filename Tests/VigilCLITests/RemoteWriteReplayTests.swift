// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilCore
import VigilIngest
import VigilServer

/// The write-ahead log keeps remote_write bodies as received; after a crash they are decoded again and every
/// acknowledged sample is processed.
@Suite struct RemoteWriteReplayTests {
    @Test func acknowledgedSamplesSurviveACrash() throws {
        let vigil = try ServerProcess(arguments: ["--no-host", "--checkpoint-seconds", "3600"])
        try vigil.start()
        let series = SeriesKey(name: "replay_probe", labels: [.init("job", "test")])
        var acknowledged = 0
        for round in 0..<20 {
            let points = (0..<100).map {
                MetricPoint(
                    series: SeriesKey(name: "replay_probe", labels: [.init("job", "test"), .init("n", "\($0)")]),
                    time: Timestamp(nanoseconds: Int64(1_795_444_305 + round) * 1_000_000_000),
                    value: Double(round)
                )
            }
            let response = try vigil.client().request(
                "POST",
                "/api/v1/write",
                headers: [("Content-Type", "application/x-protobuf"), ("Content-Encoding", "snappy")],
                body: RemoteWrite.encode(points)
            )
            if response.status == 204 { acknowledged += points.count }
        }
        #expect(acknowledged == 2000)
        vigil.crash()
        try vigil.start()
        defer { vigil.stop() }
        let deadline = Date().addingTimeInterval(20)
        while try vigil.stats("samples").processed < acknowledged && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
        }
        let stats = try vigil.stats("samples")
        #expect(stats.accepted >= acknowledged && stats.processed == stats.accepted, "\(stats)")
        var found: [[String: Any]] = []
        while found.count < 100 && Date() < deadline {
            found = try vigil.json("/api/v1/series?name=\(series.name)") as? [[String: Any]] ?? []
            if found.count < 100 { Thread.sleep(forTimeInterval: 0.2) }
        }
        #expect(found.count == 100)
        #expect(found.allSatisfy { ($0["lastValue"] as? NSNumber)?.doubleValue == 19 })
    }
}
