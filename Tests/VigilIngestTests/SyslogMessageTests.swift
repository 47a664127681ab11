// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore
import VigilIngest

@Suite struct SyslogMessageTests {
    static let now = Timestamp(nanoseconds: 1_800_000_000_000_000_000)

    static func text(_ entry: LogEntry) -> String { String(decoding: entry.line, as: UTF8.self) }

    @Test func rfc5424KeepsStructuredDataAndTime() {
        let (stream, entry) = SyslogMessage.decode(
            Array(
                #"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event log entry"#
                    .utf8
            ),
            now: Self.now
        )
        #expect(stream == StreamKey(service: "evntslog", source: "syslog"))
        #expect(
            Self.text(entry)
                == #"NOTICE [exampleSDID@32473 iut="3" eventSource="Application"] An application event log entry"#
        )
        #expect(entry.time.iso8601 == "2003-10-11T22:14:15.003Z")
    }

    @Test func rfc5424WithoutStructuredDataOrApp() {
        let (stream, entry) = SyslogMessage.decode(Array("<11>1 - host - - - - disk failed\n".utf8), now: Self.now)
        #expect(stream.service == "syslog")
        #expect(Self.text(entry) == "ERROR disk failed")
        #expect(entry.time == Self.now)
    }

    @Test func rfc3164TakesTheTag() {
        let (stream, entry) = SyslogMessage.decode(
            Array("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8".utf8),
            now: Self.now
        )
        #expect(stream == StreamKey(service: "su", source: "syslog"))
        #expect(Self.text(entry) == "CRITICAL 'su root' failed for lonvick on /dev/pts/8")
        let (bare, bareEntry) = SyslogMessage.decode(Array("<13>myapp: hello".utf8), now: Self.now)
        #expect(bare.service == "myapp")
        #expect(Self.text(bareEntry) == "NOTICE hello")
        let (plain, plainEntry) = SyslogMessage.decode(Array("no priority at all".utf8), now: Self.now)
        #expect(plain.service == "syslog" && Self.text(plainEntry) == "no priority at all")
    }

    @Test func framesOctetCountingAndLines() throws {
        let stream = Array("11 <13>1 - - a\n<13>b: line\n5 <13>x12 <13>".utf8)
        let (messages, used) = try SyslogMessage.frames(stream)
        #expect(messages.map { String(decoding: $0, as: UTF8.self) } == ["<13>1 - - a", "<13>b: line", "<13>x"])
        #expect(used == stream.count - 7)  // "12 <13>" waits for 7 more bytes
        #expect(throws: IngestError.self) { try SyslogMessage.frames(Array("99999999 x".utf8)) }
        #expect(throws: IngestError.self) { try SyslogMessage.frames(Array("12x".utf8)) }
    }

    @Test func survivesMutatedMessages() {
        var mutation = Mutation(seed: 5)
        let seeds = [
            Array(#"<165>1 2003-10-11T22:14:15.003Z host app - ID47 [a b="\]"] message"#.utf8),
            Array("<34>Oct 11 22:14:15 host su[230]: failed".utf8), Array("17 <13>1 - - - - - x\n".utf8),
        ]
        for _ in 0..<100_000 {
            let body = mutation.mutate(seeds[Int(mutation.random.next() % 3)])
            _ = SyslogMessage.decode(body, now: Self.now)
            _ = try? SyslogMessage.frames(body)
        }
    }
}

@Suite struct SHA256Tests {
    @Test func matchesPublishedVectors() {
        #expect(
            OTLPHex.of(SHA256.hash([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        #expect(
            OTLPHex.of(SHA256.hash(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(OTLPHex.of(SHA256.hash(long)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // RFC 4231 test case 2.
        #expect(
            OTLPHex.of(SHA256.hmac(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        )
    }

    @Test func verifiesGitHubStyleSignatures() {
        let body = Array(#"{"zen":"Design for failure."}"#.utf8)
        let signature = "sha256=" + OTLPHex.of(SHA256.hmac(key: Array("s3cret".utf8), body))
        #expect(SHA256.verify(signature: signature, secret: "s3cret", body: body))
        #expect(!SHA256.verify(signature: signature, secret: "other", body: body))
        #expect(!SHA256.verify(signature: "sha256=00", secret: "s3cret", body: body))
        #expect(!SHA256.verify(signature: "", secret: "s3cret", body: body))
    }
}

enum OTLPHex {
    static func of(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
