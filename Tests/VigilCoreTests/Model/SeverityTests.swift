// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct SeverityTests {
    @Test(arguments: [
        ("WARN", Severity.warning), ("warning", .warning), ("W", .warning), ("E", .error), ("err", .error),
        ("FATAL", .critical), ("notice", .notice), ("Info", .info), ("DEBUG", .debug), ("trace", .trace),
        ("SEVERE", .error), ("FAILURE", .error), ("emergency", .critical), ("informational", .info),
    ])
    func recognisesLevelWords(_ word: String, _ expected: Severity) {
        #expect(Severity(levelWord: word) == expected)
    }

    @Test(arguments: ["", "INFORMATIONAL_MESSAGES", "Failed", "x", "warnings"])
    func rejectsOtherWords(_ word: String) {
        #expect(Severity(levelWord: word) == nil)
    }

    @Test func mapsSyslogCodes() {
        #expect(
            (0...7).map { Severity(syslogCode: $0) } == [
                .critical, .critical, .critical, .error, .warning, .notice, .info, .debug,
            ]
        )
        #expect(Severity.error.isError && Severity.critical.isError && !Severity.warning.isError)
    }
}
