// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

/// An access log declares no level: its status is the level (5xx an error, 4xx a warning).
@Suite struct AccessLogStatusTests {
    private func severity(_ message: String) -> Severity? {
        let bytes = Array(message.utf8)
        return AccessLogStatus.severity(of: bytes.span)
    }

    @Test func aRequestThenItsStatusGivesTheLevel() {
        #expect(severity("\"GET /api/v1/orders HTTP/1.1\" 503 120 \"-\" \"curl/8.0\"") == .error)
        #expect(severity("\"POST /login HTTP/2.0\" 401 0") == .warning)
        #expect(severity("\"GET /api/errors HTTP/1.1\" 200 5120") == .info)
        #expect(severity("\"OPTIONS * HTTP/1.1\" 204 0") == .info)
        #expect(severity("GET /office/getAll 500 2.345 ms - 12") == .error)
        #expect(severity("DELETE /cart/9 404") == .warning)
    }

    @Test func otherMessagesHaveNoStatus() {
        #expect(severity("GET is the method we use 500 times") == nil)
        #expect(severity("\"GET /a HTTP/1.1\" 5030 1") == nil)
        #expect(severity("\"GET /a HTTP/1.1\" 999 1") == nil)
        #expect(severity("\"GET /unterminated 500") == nil)
        #expect(severity("FETCH /a 500") == nil)
        #expect(severity("request failed: GET /a 500") == nil)
        #expect(severity("") == nil)
        #expect(severity("\"") == nil)
    }

    /// Read through a detected format, a combined-format access log counts its 5xx as errors, not the words of
    /// its paths.
    @Test func anAccessLogsErrorsAreItsServerErrors() {
        let lines = (0..<40).map { index in
            let status = index % 10 == 3 ? 502 : 200
            let path = index % 2 == 0 ? "/api/v1/errors/summary" : "/api/v1/cart/\(index)"
            return "10.0.0.\(index % 7 + 1) - - [29/Jan/2023:08:50:\(10 + index) +0000] \"GET \(path) HTTP/1.1\" "
                + "\(status) \(100 + index) \"-\" \"python-requests/2.28.1\""
        }
        .map { Array($0.utf8) }
        let reader = LogRecordReader(format: LogFormat.detect(sample: lines))
        let severities = lines.enumerated().map { number, line in
            (
                reader.severityAndMessageStart(of: line.span)?.severity,
                reader.record(from: line.span, lineNumber: number + 1)?.severity
            )
        }
        #expect(severities.allSatisfy { $0.0 == $0.1 })
        #expect(severities.count { $0.1 == .error } == 4)
        #expect(severities.count { $0.1 == .info } == 36)
    }
}
