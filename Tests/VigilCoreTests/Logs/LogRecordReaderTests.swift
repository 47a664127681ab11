// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

@testable import VigilCore

/// The lean reading of a line (severity and where the message starts) against the full record.
@Suite struct LogRecordReaderTests {
    static let loghub = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/data/logs/loghub2k")

    /// Reads `lines` with the format detected from them; every line the lean reading takes must give the full
    /// record's severity and message. Returns how many lines it took.
    static func compare(_ lines: [[UInt8]]) -> Int {
        let reader = LogRecordReader(format: LogFormat.detect(sample: Array(lines.prefix(64))))
        var taken = 0
        for (number, line) in lines.enumerated() {
            guard let lean = reader.severityAndMessageStart(of: line.span) else { continue }
            taken += 1
            let record = reader.record(from: line.span, lineNumber: number + 1)
            #expect(record?.severity == lean.severity, "\(String(decoding: line, as: UTF8.self))")
            #expect(
                record?.message == String(decoding: line[lean.messageStart...], as: UTF8.self),
                "\(String(decoding: line, as: UTF8.self))"
            )
        }
        return taken
    }

    @Test func leanReadingAgreesWithTheRecordOnEveryLoghubSample() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.loghub.path).sorted()
        #expect(names.count >= 10)
        var taken = 0
        for name in names {
            let file = Self.loghub.appendingPathComponent(name).appendingPathComponent("\(name)_2k.log")
            let text = try String(contentsOf: file, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { Array($0.utf8) }
            taken += Self.compare(lines)
        }
        // Most of the samples have text headers: the lean reading must actually be exercised.
        #expect(taken > 10_000)
    }

    @Test func leanReadingAgreesOnLevelsKlogAndInferredSeverity() {
        let lines = [
            "2026-11-23 14:31:45.120 ERROR [main] c.a.Checkout: payment declined for order 12",
            "2026-11-23 14:31:46.001 [WARN] [pool-1] c.a.Cart: slow call 812 ms",
            "2026-11-23 14:31:47.300 INFO  c.a.Cart: connection failed with exception java.io.IOException",
            "2026-11-23 14:31:48.000 INFO  c.a.Cart: ok",
        ].map { Array($0.utf8) }
        #expect(Self.compare(lines) == lines.count)
        let klog = [
            "E1123 14:31:45.120000    1234 server.go:42] dial tcp 10.0.0.1:443: connect refused",
            "I1123 14:31:46.000000    1234 server.go:50] serving on :8080",
            "W1123 14:31:47.000000    1234 cache.go:7] stale entry",
        ].map { Array($0.utf8) }
        #expect(Self.compare(klog) == klog.count)
    }

    /// A syslog date carries no year: with the time the log was last written known, it takes the year that puts
    /// it at most a day after that time (December's lines read in January keep last year), a date that names its
    /// year keeps it, and with nothing known the year is 1970.
    @Test func aDateWithoutAYearFallsBeforeTheLogWasLastWritten() throws {
        let lines = [
            "Dec 31 23:59:58 host app[1]: year end",
            "Jan  1 00:00:01 host app[1]: new year",
            "Jan 11 12:00:00 host app[1]: tomorrow, as this clock sees it",
        ].map { Array($0.utf8) }
        let format = LogFormat.detect(sample: lines)
        let written = Timestamp(nanoseconds: 1_768_046_400 * 1_000_000_000)  // 2026-01-10T12:00:00Z
        let reader = LogRecordReader(format: format, latest: written)
        var times: [String?] = []
        for (index, line) in lines.enumerated() {
            times.append(reader.record(from: line.span, lineNumber: index + 1)?.timestamp?.iso8601)
        }
        #expect(times == ["2025-12-31T23:59:58Z", "2026-01-01T00:00:01Z", "2026-01-11T12:00:00Z"], "\(times)")
        let first = lines[0]
        let unknown = LogRecordReader(format: format).record(from: first.span, lineNumber: 1)
        #expect(unknown?.timestamp?.iso8601 == "1970-12-31T23:59:58Z")

        let dated = Array("2024-05-01 10:00:00 INFO app: started".utf8)
        let isoReader = LogRecordReader(format: LogFormat.detect(sample: [dated]), latest: written)
        #expect(isoReader.record(from: dated.span, lineNumber: 1)?.timestamp?.iso8601 == "2024-05-01T10:00:00Z")
    }

    /// A time of day alone (logback's default layout) falls on the day the log was last written, or the day before
    /// when it would come more than an hour after that (a log read at 02:00 wrote 23:10 yesterday); with nothing
    /// known, on 1 January 1970.
    @Test func aTimeOfDayAloneFallsOnTheDayTheLogWasWritten() throws {
        let lines = [
            "23:10:00.250 [main] INFO  c.e.App - started",
            "00:00:01.000 [main] WARN  c.e.App - midnight",
            "01:59:59.999 [main] INFO  c.e.App - last",
        ].map { Array($0.utf8) }
        let format = LogFormat.detect(sample: lines)
        let written = Timestamp(nanoseconds: 1_674_957_600 * 1_000_000_000)  // 2023-01-29T02:00:00Z
        let reader = LogRecordReader(format: format, latest: written)
        let times = lines.enumerated().map { reader.record(from: $1.span, lineNumber: $0 + 1)?.timestamp?.iso8601 }
        #expect(times == ["2023-01-28T23:10:00.250Z", "2023-01-29T00:00:01Z", "2023-01-29T01:59:59.999Z"], "\(times)")
        let first = lines[0]
        let unknown = LogRecordReader(format: format).record(from: first.span, lineNumber: 1)
        #expect(unknown?.timestamp?.iso8601 == "1970-01-01T23:10:00.250Z")
    }

    /// PostgreSQL names the level where others name a component (`ERROR:`), and MySQL puts it in a bracket beside
    /// brackets that hold none (`[Note] [MY-010931] [Server]`): both are read as levels, the same by the lean
    /// reading and the full record.
    @Test func levelsInAComponentOrAMixedBracketColumn() {
        let postgres = (0..<20).map { index in
            "2023-01-29 08:50:\(10 + index).123 UTC [\(100 + index)] "
                + [
                    "LOG:  checkpoint starting: time", "ERROR:  relation \"t\(index)\" does not exist",
                    "FATAL:  no pg_hba.conf entry",
                ][index % 3]
        }
        .map { Array($0.utf8) }
        #expect(Self.compare(postgres) == postgres.count)
        let reader = LogRecordReader(format: LogFormat.detect(sample: postgres))
        let levels = postgres.enumerated().map { reader.record(from: $1.span, lineNumber: $0 + 1)?.severity }
        #expect(levels.prefix(3) == [.unknown, .error, .critical])
        let second = postgres[1]
        let error = reader.record(from: second.span, lineNumber: 2)
        #expect(error?.message == "relation \"t1\" does not exist")
        #expect(error?.fields["component"] == nil)

        let mysql = (0..<20).map { index in
            "2023-01-29T08:50:\(10 + index).123456Z \(index) [\(["Warning", "Note", "ERROR", "System"][index % 4])] "
                + "[MY-0\(10_068 + index % 4)] [Server] Aborted connection \(index) to db"
        }
        .map { Array($0.utf8) }
        #expect(Self.compare(mysql) == mysql.count)
        let mysqlReader = LogRecordReader(format: LogFormat.detect(sample: mysql))
        let records = mysql.enumerated().compactMap { mysqlReader.record(from: $1.span, lineNumber: $0 + 1) }
        #expect(records.prefix(3).map(\.severity) == [.warning, .notice, .error])
        #expect(Set(records.map(\.message)).count == 20 && records[0].message == "Aborted connection 0 to db")
    }
}
