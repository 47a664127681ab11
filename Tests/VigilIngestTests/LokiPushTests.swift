// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore
import VigilIngest

@Suite struct LokiPushTests {
    @Test func decodesJSONPushWithServiceAndSource() throws {
        let body = """
            {"streams":[{"stream":{"service_name":"checkout","filename":"/var/log/app.log","env":"prod"},
            "values":[["1700000000000000001","order 1 placed"],["1700000000000000002","caf\\u00e9 \\"quoted\\"",{"trace_id":"a"}]]}]}
            """
        let batches = try LokiPush.decodeJSON(Array(body.utf8))
        #expect(batches.count == 1)
        #expect(batches[0].stream == StreamKey(service: "checkout", source: "/var/log/app.log"))
        #expect(batches[0].entries.map(\.time.nanoseconds) == [1_700_000_000_000_000_001, 1_700_000_000_000_000_002])
        #expect(String(decoding: batches[0].entries[1].line, as: UTF8.self) == "café \"quoted\"")
    }

    @Test(arguments: [
        ("{}", "streams"),
        ("{\"streams\":[{\"values\":[]}]}", "label object"),
        ("{\"streams\":[{\"stream\":{},\"values\":[[\"x\",\"line\"]]}]}", "Unix nanoseconds"),
        ("{\"streams\":[{\"stream\":{},\"values\":[[\"1\"]]}]}", "must be"),
        ("{\"streams\":[{\"stream\":{\"a\":1},\"values\":[]}]}", "not a string"),
        ("{\"streams\":[", "invalid JSON"),
    ])
    func rejectsMalformedJSONWithAReason(body: String, reason: String) {
        #expect {
            try LokiPush.decodeJSON(Array(body.utf8))
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func protobufRoundTripsThroughSnappy() throws {
        let entries = (0..<500).map {
            LogEntry(
                time: Timestamp(nanoseconds: 1_700_000_000_000_000_000 + Int64($0)),
                line: Array("line \($0) of a stream".utf8)
            )
        }
        let body = LokiPush.encodeProtobuf([("{app=\"web\", filename=\"/var/log/web.log\"}", entries)])
        #expect(body.count < 500 * 20)  // repeated text compresses
        let batches = try LokiPush.decodeProtobuf(body)
        #expect(batches.count == 1)
        #expect(batches[0].stream == StreamKey(service: "web", source: "/var/log/web.log"))
        #expect(batches[0].entries == entries)
    }

    @Test func rejectsLinesOverTheLimit() {
        var limits = LokiPush.Limits()
        limits.maximumLineBytes = 10
        let body = Array("{\"streams\":[{\"stream\":{},\"values\":[[\"1\",\"a line longer than ten bytes\"]]}]}".utf8)
        #expect(throws: IngestError.self) { try LokiPush.decodeJSON(body, limits: limits) }
    }

    @Test func labelSetParsesEscapes() throws {
        let pairs = try LabelSet.parse("{job=\"api\", path=\"C:\\\\logs\", msg=\"a\\\"b\"}")
        #expect(pairs.map(\.0) == ["job", "path", "msg"])
        #expect(pairs.map(\.1) == ["api", "C:\\logs", "a\"b"])
        #expect(throws: IngestError.self) { try LabelSet.parse("job=\"api\"") }
        #expect(throws: IngestError.self) { try LabelSet.parse("{job=\"api}") }
    }

    /// 100,000 mutated bodies (bytes flipped, inserted, deleted, truncated, spliced) never crash either decoder;
    /// some still decode, the rest fail with a reason.
    @Test func survivesOneHundredThousandMutatedBodies() {
        let protobuf = LokiPush.encodeProtobuf([
            (
                "{app=\"x\", filename=\"/a.log\"}",
                (0..<20).map {
                    LogEntry(time: Timestamp(nanoseconds: Int64($0)), line: Array("hello \($0) world".utf8))
                }
            )
        ])
        let json = Array(
            "{\"streams\":[{\"stream\":{\"app\":\"x\"},\"values\":[[\"1\",\"hello\"],[\"2\",\"w\\u00e9rld\"]]}]}".utf8
        )
        var random = SplitMix64(seed: 7)
        var decoded = 0
        var failed = 0
        for round in 0..<100_000 {
            var body = round % 2 == 0 ? protobuf : json
            for _ in 0...(random.next() % 4) {
                let position = Int(random.next() % UInt64(body.count + 1))
                switch random.next() % 5 {
                case 0 where position < body.count: body[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: body.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                case 2 where position < body.count: body.remove(at: position)
                case 3: body = Array(body.prefix(position))
                default: body = Array(body.prefix(position)) + (round % 2 == 0 ? json : protobuf).suffix(position % 16)
                }
            }
            do {
                _ = round % 2 == 0 ? try LokiPush.decodeProtobuf(body) : try LokiPush.decodeJSON(body)
                decoded += 1
            } catch {
                #expect(!error.message.isEmpty)
                failed += 1
            }
        }
        #expect(decoded + failed == 100_000)
        #expect(decoded > 100 && failed > 10_000)
    }
}
