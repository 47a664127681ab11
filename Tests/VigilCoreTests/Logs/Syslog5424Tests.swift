// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct Syslog5424Tests {
    private func parse(_ text: String) -> LogRecord? {
        let bytes = Array(text.utf8)
        return Syslog5424.parse(bytes.span, lineNumber: 3)
    }

    @Test func readsTheRFCExample() throws {
        let line =
            #"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \#u{FEFF}An application event log entry..."#
        let record = try #require(parse(line))
        #expect(record.severity == .notice)
        #expect(record.timestamp?.iso8601 == "2003-10-11T22:14:15.003Z")
        #expect(record.fields["host"] == "mymachine.example.com")
        #expect(record.fields["app"] == "evntslog")
        #expect(record.fields["procid"] == nil)
        #expect(record.fields["msgid"] == "ID47")
        #expect(record.fields["structured_data"]?.hasPrefix("[exampleSDID@32473") == true)
        #expect(record.message == "An application event log entry...")
        #expect(record.lineNumber == 3)
    }

    @Test func keepsBracketsInsideQuotedParameterValues() throws {
        let record = try #require(parse(#"<13>1 - host app 42 - [x@1 k="a]b"] done"#))
        #expect(record.fields["structured_data"] == #"[x@1 k="a]b"]"#)
        #expect(record.message == "done")
        #expect(record.timestamp == nil)
    }

    @Test(arguments: [
        "", "<>1 x", "<999>1 - - - - - -", "<13>x - - - - - -", "<13>1 -", "Jun 14 15:16:01 host sshd: x",
    ])
    func rejectsOtherLines(_ line: String) {
        #expect(parse(line) == nil)
    }
}
