// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

/// `LEVEL:logger:message`, Python's `logging.basicConfig()` default.
@Suite struct PythonLoggingLineTests {
    private func parse(_ text: String) -> (Severity, String, String)? {
        let bytes = Array(text.utf8)
        guard let parsed = PythonLoggingLine.parse(bytes.span) else { return nil }
        return (
            parsed.severity, String(decoding: bytes[parsed.logger], as: UTF8.self),
            String(decoding: bytes[parsed.messageStart...], as: UTF8.self)
        )
    }

    @Test func readsLevelLoggerAndMessage() throws {
        let critical = try #require(parse("CRITICAL:app.worker:out of memory: killed"))
        #expect(critical.0 == .critical && critical.1 == "app.worker" && critical.2 == "out of memory: killed")
        let empty = try #require(parse("DEBUG:__main__:"))
        #expect(empty.0 == .debug && empty.1 == "__main__" && empty.2.isEmpty)
    }

    @Test(arguments: ["INFO: root: x", "info:root:x", "NOTALEVEL:x:y", "INFO::x", "INFO:root", "ERR:x:y", "", "INFO"])
    func otherLinesAreNot(_ text: String) {
        #expect(parse(text) == nil)
    }
}
