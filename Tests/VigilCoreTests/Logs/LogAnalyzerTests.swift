// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct LogAnalyzerTests {
    /// One record every 10 s for an hour, a 15-minute silence, an error burst, and a late new error.
    private func sampleReport() -> LogReport {
        var analyzer = LogAnalyzer()
        var time = 1_700_000_000.0
        for index in 0..<360 {
            time += 10
            if index == 100 { time += 900 }
            analyzer.add(
                LogRecord(
                    timestamp: Timestamp(seconds: time),
                    severity: .info,
                    message: "request \(index) served in \(index % 50)ms"
                )
            )
            if (200..<215).contains(index) {
                for extra in 0..<4 {
                    analyzer.add(
                        LogRecord(
                            timestamp: Timestamp(seconds: time + Double(extra)),
                            severity: .error,
                            message: "upstream db-\(extra) timed out after 3000ms"
                        )
                    )
                }
            }
            if index == 340 {
                analyzer.add(
                    LogRecord(
                        timestamp: Timestamp(seconds: time),
                        severity: .error,
                        message: "disk quota exceeded on /var/lib/data"
                    )
                )
            }
        }
        return analyzer.report()
    }

    @Test func reportsCountsAndTemplates() {
        let report = self.sampleReport()
        #expect(report.records == 360 + 60 + 1)
        #expect(report.templateCount == 3)
        #expect(report.topTemplates.first?.template == "request <*> served in <*>")
        #expect(report.errorRecords == 61)
        #expect(report.errorTemplates.map(\.errors) == [60, 1])
    }

    @Test func findsTheSilence() throws {
        let silence = try #require(self.sampleReport().silences.first)
        #expect(silence.seconds == 910)
        #expect(silence.typicalGapSeconds < 11)
    }

    @Test func findsTheErrorBurstAndTheLateNewError() {
        let report = self.sampleReport()
        #expect(
            report.bursts.contains { $0.kind == "errors" && $0.topTemplate == "upstream db-<*> timed out after <*>" }
        )
        #expect(report.lateTemplates.map(\.template) == ["disk quota exceeded on <*>"])
        #expect(report.newErrorTemplates.map(\.template).contains("disk quota exceeded on <*>"))
        #expect(report.timeline.axis == "time")
        #expect(report.timeline.counts.reduce(0, +) == report.records)
    }

    @Test func logsWithoutTimestampsUseRecordPositions() {
        var analyzer = LogAnalyzer()
        for index in 0..<100 { analyzer.add(LogRecord(message: "step \(index) ok")) }
        let report = analyzer.report()
        #expect(report.timeline.axis == "records")
        #expect(report.timeline.counts.reduce(0, +) == 100)
        #expect(report.silences.isEmpty && report.timeRange == nil)
    }

    @Test func extremeTimestampsDoNotTrap() {
        var analyzer = LogAnalyzer()
        for seconds in [-1e300, 0, 1e300, .nan, 7.25e9, 1.7e9] {
            for _ in 0..<10 { analyzer.add(LogRecord(timestamp: Timestamp(seconds: seconds), message: "tick")) }
        }
        let report = analyzer.report()
        #expect(report.records == 60)
        #expect(report.timeline.counts.reduce(0, +) == 60)
    }
}
