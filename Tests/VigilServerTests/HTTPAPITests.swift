// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilCore
import VigilStorage

@testable import VigilServer

@Suite struct HTTPAPITests {
    private func seen(_ caller: String, _ callee: String, calls: Int) -> TopologyEdge {
        var latency = LatencyHistogram()
        for _ in 0..<calls { latency.add(0.02) }
        let minute = ServiceGraph.EdgeMinute(
            minute: Timestamp(nanoseconds: 1_700_000_040_000_000_000),
            caller: caller,
            callee: callee,
            calls: calls,
            errors: 1,
            latency: latency
        )
        return TopologyEdge(caller: caller, callee: callee, minutes: [minute])
    }

    private func json(_ edges: [HTTPAPI.EdgeView]) throws -> [[String: Any]] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try #require(JSONSerialization.jsonObject(with: encoder.encode(edges)) as? [[String: Any]])
    }

    /// The graph shows what spans saw and what the configuration declares: a declared call spans also saw is one
    /// edge from both, with the spans' figures; a declared call no span showed in the range still shows, without
    /// figures; a repeated or self call once or not at all.
    @Test func declaredCallsJoinTheCallsSpansSaw() throws {
        let declared = [("checkout", "payment"), ("checkout", "cart"), ("checkout", "cart"), ("cart", "cart")].map {
            ServerConfiguration.Dependency(caller: $0.0, callee: $0.1)
        }
        let edges = HTTPAPI.edges(
            seen: [self.seen("checkout", "payment", calls: 40), self.seen("front-end", "checkout", calls: 90)],
            configured: declared
        )
        let shown = try self.json(edges)
        #expect(
            shown.map { "\($0["caller"]!) → \($0["callee"]!)" } == [
                "checkout → payment", "front-end → checkout", "checkout → cart",
            ]
        )
        #expect(
            shown.map { $0["sources"] as? [String] ?? [] } == [
                ["spans", "configuration"], ["spans"], ["configuration"],
            ]
        )
        #expect(shown[0]["calls"] as? Int == 40 && shown[0]["errors"] as? Int == 1)
        #expect(shown[1]["calls"] as? Int == 90)
        #expect(shown[2]["calls"] == nil && shown[2]["lastSeen"] == nil)
        #expect(HTTPAPI.edges(seen: [], configured: []).isEmpty)
    }
}
