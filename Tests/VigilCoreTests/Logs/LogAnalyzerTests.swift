// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
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

    /// A log stamped to the second that writes several lines a second: the usual gap is between its seconds,
    /// not the 0 between lines that share one.
    @Test func theTypicalGapIsBetweenDistinctTimes() throws {
        var analyzer = LogAnalyzer()
        for second in 0..<600 {
            let at = second < 300 ? second : second + 3_600
            for line in 0..<4 {
                analyzer.add(
                    LogRecord(
                        timestamp: Timestamp(seconds: Double(1_700_000_000 + at * 2)),
                        severity: .info,
                        message: "request \(line) served"
                    )
                )
            }
        }
        let silence = try #require(analyzer.report().silences.first)
        #expect(silence.seconds == 7_202)
        #expect(silence.typicalGapSeconds == 2)
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

    /// The analyzer's report of `lines`, read the way `vigil analyze` reads a file.
    private func report(of lines: [String]) -> LogReport {
        var splitter = LogStreamSplitter(joinMultiline: true)
        var analyzer = LogAnalyzer()
        for line in lines {
            let bytes = Array(line.utf8)
            for record in bytes.withUnsafeBufferPointer({ splitter.add(Span(_unsafeElements: $0)) }) {
                analyzer.add(record)
            }
        }
        for record in splitter.finish() { analyzer.add(record) }
        return analyzer.report()
    }

    private func loghub(_ name: String) throws -> [String] {
        let file = LogRecordReaderTests.loghub.appendingPathComponent(name).appendingPathComponent("\(name)_2k.log")
        return try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test(arguments: ["OpenSSH", "HDFS", "Linux", "Hadoop", "Android", "BGL"])
    func realLogsKeepTheirOrder(name: String) throws {
        // Real logs from Loghub, read as they are: no step is out of order.
        let report = self.report(of: try self.loghub(name))
        #expect(report.sequenceAnomalies.isEmpty, "\(report.sequenceAnomalies)")
    }

    @Test func aLoginThatSkipsItsFailedPasswordIsOutOfOrder() throws {
        // In the OpenSSH sample, a PAM authentication failure for a known user is always followed by sshd's
        // "Failed password" (383 times): one connection that goes straight on to disconnect is out of line.
        var lines = try self.loghub("OpenSSH")
        lines += [
            "Jan  7 12:00:01 LabSZ sshd[31001]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
                + "tty=ssh ruser= rhost=10.1.2.3  user=root",
            "Jan  7 12:00:02 LabSZ sshd[31001]: Received disconnect from 10.1.2.3: 11: Bye Bye [preauth]",
        ]
        let report = self.report(of: lines)
        let step = try #require(report.sequenceAnomalies.first)
        #expect(report.sequenceAnomalies.count == 1)
        #expect(
            step.previous.hasPrefix("pam_unix(sshd:auth): authentication failure;") && step.previous.contains("user=")
        )
        #expect(step.next.hasPrefix("Received disconnect from"))
        #expect(step.line == lines.count && step.session == "pid")
        #expect(step.followers >= 380)
        #expect(step.usual.first?.template.hasPrefix("Failed password for") == true)
    }

    @Test func aRequestThatStopsHalfwayIsOutOfOrder() throws {
        // 150 requests by request_id write three JSON lines each; one stops after the second.
        var lines: [String] = []
        var second = 1_700_000_000
        func line(_ request: Int, _ message: String) -> String {
            second += 1
            return #"{"ts":\#(second),"level":"info","request_id":"r\#(request)","msg":"\#(message)"}"#
        }
        for request in 0..<150 {
            lines.append(line(request, "order \(request) created"))
            lines.append(line(request, "stock reserved for order \(request)"))
            lines.append(line(request, "payment authorised for order \(request)"))
        }
        lines.append(line(900, "order 900 created"))
        lines.append(line(900, "stock reserved for order 900"))
        second += 3600
        lines.append(line(901, "order 901 created"))
        let report = self.report(of: lines)
        let step = try #require(report.sequenceAnomalies.first)
        #expect(report.sequenceAnomalies.count == 1)
        #expect(step.previous == "stock reserved for order <*>" && step.next == "(session end)")
        #expect(step.session == "request_id" && step.line == 452)
        #expect(step.usual.map(\.template) == ["payment authorised for order <*>"])
    }
}
