// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

/// The kubelet's CRI envelope: time, stream, tag, then the application's line.
@Suite struct CRILogLineTests {
    @Test func readsTheEnvelope() throws {
        let bytes = Array("2023-01-29T08:50:01.123456789Z stderr P connection refu".utf8)
        let parsed = CRILogLine(bytes.span)
        let line = try #require(parsed)
        #expect(line.time.iso8601 == "2023-01-29T08:50:01.123Z")
        #expect(line.isPartial)
        #expect(String(decoding: bytes[line.contentStart...], as: UTF8.self) == "connection refu")
    }

    @Test func aCRIEnvelopeNeedsAllItsParts() {
        for line in [
            "2024-10-10T13:55:36Z stdin F x", "2024-10-10T13:55:36Z stdout X x", "2024-10-10T13:55:36Z stdoutF x",
            "2024-10-10 13:55:36Z stdout F x", "10-10T13:55:36Z stdout F x", "2024-10-10T13:55:36Z stdout",
        ] {
            let bytes = Array(line.utf8)
            #expect(CRILogLine(bytes.span) == nil, "\(line)")
        }
        let bare = Array("2024-10-10T13:55:36.25Z stderr F".utf8)
        #expect(CRILogLine(bare.span)?.contentStart == bare.count)
    }
}
