// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore

@testable import VigilIngest

/// Reading chosen members of flat JSON objects from bytes, and JSON-lines files in chunks.
@Suite struct JSONFieldsTests {
    func read(_ text: String, _ keys: [JSONFields.Key]) throws(IngestError) -> [JSONFields.Value?] {
        var values: [JSONFields.Value?] = []
        var cache = JSONFields.StringCache()
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBufferPointer { buffer throws(IngestError) in
            try JSONFields.read(buffer, keys: keys, into: &values, cache: &cache)
        }
        return values
    }

    @Test func readsTheChosenMembersAndSkipsTheRest() throws {
        let values = try self.read(
            #" {"skip": {"a": [1, {"b": "}"}]}, "name": "caf\u00e9 \"x\"", "n": -12.5, "ok": true, "none": null, "later": 3} "#,
            ["name", "n", "ok", "none", "absent"]
        )
        #expect(values[0] == .string("café \"x\""))
        #expect(values[1] == .number(-12.5))
        #expect(values[2] == .bool(true))
        #expect(values[3] == .null)
        #expect(values[4] == nil)
    }

    @Test func theFirstOfDuplicateMembersWinsAndEscapedNamesMatch() throws {
        let values = try self.read(#"{"id": "first", "\u0069d": "second", "t\u0069me": 5}"#, ["id", "time"])
        #expect(values[0] == .string("first"))
        #expect(values[1] == .number(5))
    }

    /// Names are told apart by length and first eight bytes, then by the rest: names that differ only after the
    /// eighth byte, prefixes of a key and keys that are prefixes of a name must not match.
    @Test func namesMatchInFullOnly() throws {
        let keys: [JSONFields.Key] = ["duration_ms", "duration", "span_id", "a"]
        let values = try self.read(
            #"{"duration_xs": 1, "duration_m": 2, "duration_msx": 3, "span_i": 4, "ab": 5, "duration_ms": 6}"#,
            keys
        )
        #expect(values == [.number(6), nil, nil, nil])
        let exact = try self.read(#"{"a": 1, "span_id": 2, "duration": 3}"#, keys)
        #expect(exact == [nil, .number(3), .number(2), .number(1)])
    }

    /// The fast path must give the very Double the standard library parses, for short and long numbers alike.
    @Test func numbersMatchTheStandardParser() throws {
        var generator = SystemRandomNumberGenerator()
        var texts = [
            "0", "-0", "1674982201.749", "1652812383.01719", "30.671821220562006", "1e-7", "2.5E+3",
            "123456789012345678901",
            "0.1", "0.30000000000000004", "9007199254740993", "-1.5e300",
        ]
        for _ in 0..<2_000 {
            let value = Double.random(in: 0..<2e9, using: &generator)
            texts.append("\(value)")
            texts.append(
                String(Int.random(in: 0..<Int(1e12), using: &generator)) + "."
                    + String(Int.random(in: 0..<1000, using: &generator))
            )
        }
        for text in texts {
            let values = try self.read(#"{"x": \#(text)}"#, ["x"])
            #expect(values[0] == .number(Double(text)!), "\(text)")
        }
    }

    /// IDs are hashed from the bytes, escaped or not, exactly as the decoded text would hash; repeated names are
    /// decoded once and shared.
    @Test func fingerprintedAndInternedMembers() throws {
        let keys: [JSONFields.Key] = [.fingerprint("id"), .interned("service"), .fingerprint("parent")]
        let plain = try self.read(#"{"id": "ab12", "service": "cart", "parent": ""}"#, keys)
        #expect(plain[0] == .fingerprint(SignatureHash.of("ab12"), length: 4))
        #expect(plain[1] == .string("cart"))
        #expect(plain[2] == .fingerprint(SignatureHash.of(""), length: 0))
        let escaped = try self.read(#"{"id": "ab\u0031\u0032", "service": "ca\u0072t"}"#, keys)
        #expect(escaped[0] == plain[0])
        #expect(escaped[1] == .string("cart"))
        #expect(try self.read(#"{"id": 5}"#, keys)[0] == .number(5))
        let lines = try self.read(#"{"a": "x \"q\"\tz", "b": "plain text"}"#, [.bytes("a"), .bytes("b")])
        #expect(lines == [.bytes(Array("x \"q\"\tz".utf8)), .bytes(Array("plain text".utf8))])

        var cache = JSONFields.StringCache()
        var values: [JSONFields.Value?] = []
        for index in 0..<(JSONFields.StringCache.capacity + 10) {
            let bytes = Array(#"{"service": "s\#(index % (JSONFields.StringCache.capacity + 5))"}"#.utf8)
            try bytes.withUnsafeBufferPointer { buffer throws(IngestError) in
                try JSONFields.read(buffer, keys: [.interned("service")], into: &values, cache: &cache)
            }
            #expect(values[0] == .string("s\(index % (JSONFields.StringCache.capacity + 5))"))
        }
        #expect(cache.strings.count == JSONFields.StringCache.capacity)
    }

    /// The eight-bytes-a-step scans stop exactly where a byte-by-byte scan does, at every offset and length.
    @Test func wordScansStopWhereByteScansDo() {
        var random = SplitMix64(seed: 3)
        let alphabet: [UInt8] = [0x22, 0x5C, 0x0A, 0x1F, 0x00, 0x20, 0x41, 0x7E, 0x80, 0xC3, 0xFF, 0x21, 0x5B]
        for _ in 0..<3_000 {
            let count = Int(random.next() % 40)
            let bytes = (0..<count).map { _ -> UInt8 in
                random.next() % 4 == 0 ? alphabet[Int(random.next() % UInt64(alphabet.count))] : 0x61
            }
            bytes.withUnsafeBufferPointer { buffer in
                for start in 0...count {
                    let plain = buffer[start...].firstIndex { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 } ?? count
                    #expect(JSONFields.plainRun(buffer, from: start) == plain, "\(bytes) from \(start)")
                    #expect(JSONLines.lineEnd(buffer, from: start) == (buffer[start...].firstIndex(of: 0x0A) ?? count))
                }
            }
        }
    }

    @Test func invalidObjectsThrow() {
        for text in [
            "", "[1]", #"{"a": 1"#, #"{"a" 1}"#, #"{"a": 1,}"#, #"{"a": 1} x"#, #"{"a": 1.}"#, #"{"a": -}"#,
            #"{"a": 1e}"#, #"{"a": "\q"}"#, #"{"a": tru}"#, #"{"a": "open}"#, #"{a: 1}"#,
        ] {
            #expect(throws: IngestError.self, "\(text)") { try self.read(text, ["a"]) }
        }
    }

    /// Cutting a file into chunks changes neither the records, their order, nor the reported line numbers.
    @Test func chunksJoinToTheWholeFile() {
        var text = ""
        for line in 1...200 {
            switch line % 17 {
            case 0: text += "{broken\n"
            case 5: text += "  \n"
            default: text += #"{"n": \#(line), "pad": "\#(String(repeating: "x", count: line % 7))"}"# + "\n"
            }
        }
        text += #"{"n": 201}"#  // no final line end
        let bytes = Array(text.utf8)
        func numbers(_ record: [JSONFields.Value?]) -> Int? { record[0]?.double.map { Int($0) } }
        bytes.withUnsafeBufferPointer { buffer in
            let whole = JSONLines.read(buffer, keys: ["n"], record: numbers)
            #expect(whole.records.count == 201 - 200 / 17 - 12)
            #expect(whole.records.last == 201)
            #expect(whole.skipped == 200 / 17 && whole.firstSkipped == 17)
            for size in [1, 10, 97, 1_000, 1 << 20] {
                let chunks = JSONLines.chunks(buffer, size: size)
                #expect(chunks.first?.lowerBound == 0 && chunks.last?.upperBound == bytes.count)
                let joined = JSONLines.join(
                    chunks.map {
                        JSONLines.read(UnsafeBufferPointer(rebasing: buffer[$0]), keys: ["n"], record: numbers)
                    }
                )
                #expect(joined.records == whole.records, "chunks of \(size) bytes")
                #expect(joined.skipped == whole.skipped && joined.firstSkipped == 17 && joined.lines == whole.lines)
            }
        }
    }
}
