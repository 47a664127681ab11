// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilCore
import VigilIngest
import VigilServer

/// Hostile input on the OTLP endpoints: truncated, oversized, bombed and mislabelled bodies get a 4xx with a
/// reason, and nothing of them is kept.
@Suite struct OTLPEndpointTests {
    @Test func rejectsBadBodiesWithAReason() throws {
        let vigil = try ServerProcess(arguments: ["--no-host", "--max-body-bytes", "65536"])
        try vigil.start()
        defer { vigil.stop() }
        let client = vigil.client()
        let protobuf = [("Content-Type", "application/x-protobuf")]
        let good = OTLP.encodeLogs(
            service: "api",
            [.init(time: Timestamp(nanoseconds: 1_795_444_305_000_000_000), severity: "INFO", body: "started")]
        )
        let truncated = try client.request("POST", "/v1/logs", headers: protobuf, body: Array(good.dropLast(3)))
        #expect(truncated.status == 400)
        #expect(truncated.text.contains("OTLP logs"), "\(truncated.text)")
        let large = try client.request(
            "POST",
            "/v1/traces",
            headers: protobuf,
            body: [UInt8](repeating: 0x0A, count: 70_000)
        )
        #expect(large.status == 413)
        // 64 KiB limit; a gzip body that inflates past four times the limit is refused, not inflated.
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 4 << 20))
        let bombed = try client.request(
            "POST",
            "/v1/logs",
            headers: protobuf + [("Content-Encoding", "gzip")],
            body: bomb
        )
        #expect(bombed.status == 413, "\(bombed.text)")
        let brotli = try client.request(
            "POST",
            "/v1/logs",
            headers: protobuf + [("Content-Encoding", "br")],
            body: good
        )
        #expect(brotli.status == 415)
        let text = try client.request("POST", "/v1/metrics", headers: [("Content-Type", "text/plain")], body: good)
        #expect(text.status == 415)
        #expect(try vigil.stats().accepted == 0)
        // The same body, gzipped, is accepted and answered in protobuf.
        let zipped = try client.request(
            "POST",
            "/v1/logs",
            headers: protobuf + [("Content-Encoding", "gzip")],
            body: Gzip.compress(good)
        )
        #expect(zipped.status == 200)
        #expect(zipped.headers["content-type"] == "application/x-protobuf")
        #expect(try vigil.stats().accepted == 1)
    }
}
