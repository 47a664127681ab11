// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

/// Log evidence: a code fault that barely moves a metric writes errors and lines never seen before.
@Suite struct IncidentDataLogsTests {
    static let rows = 60
    static let onset = 40
    static let times = (0..<rows).map { 1_700_000_000 + Double($0) * 10 }

    /// Logs of three services, four lines a row each, in a log4j-like layout; after the onset payment's lines
    /// become exceptions when `failing`.
    static func logs(failing: Bool, rows: [Int] = Array(0..<rows)) -> [IncidentData.CaseLogLine] {
        var lines: [IncidentData.CaseLogLine] = []
        for row in rows {
            for index in 0..<4 {
                let time = Self.times[row] + Double(index) * 2
                let clock = "10:\(10 + row / 6):\(10 + index * 2).\(100 + row)"
                for service in ["gateway", "order", "payment"] {
                    var line =
                        "\(clock) INFO  c.e.\(service).Handler#42 handled request \(row * 10 + index) in \(20 + index) ms"
                    if failing && service == "payment" && row >= Self.onset && index < 3 {
                        line =
                            "\(clock) ERROR c.e.payment.Charge#88 PaymentException: card service refused order \(row * 10 + index)"
                    }
                    lines.append(.init(time: time, service: service, line: line))
                }
            }
        }
        return lines
    }

    static func flatMetrics() -> IncidentData {
        IncidentData(
            times: Self.times,
            columns: ["gateway", "order", "payment"].map { service in
                .init(service: service, metric: "cpu", values: (0..<rows).map { 30 + Double(($0 * 3) % 4) / 10 })
            }
        )
    }

    @Test func errorsAndNewTemplatesPointAtTheFailingService() throws {
        var data = Self.flatMetrics()
        data.addLogs(Self.logs(failing: true))
        let errors = try #require(
            data.columns.first { $0.service == "payment" && $0.metric == IncidentData.LogMetric.errorLines }
        )
        #expect(errors.values[Self.onset - 1] == 0)
        #expect(errors.values[Self.onset] == 3)
        let fresh = try #require(
            data.columns.first { $0.service == "payment" && $0.metric == IncidentData.LogMetric.newTemplateLines }
        )
        #expect(fresh.values[0] == nil && fresh.values[5] == nil, "the first minute only teaches templates")
        #expect(fresh.values[Self.onset - 1] == 0)
        #expect(fresh.values[Self.onset] == 3, "every line of a template born after the first minute counts")
        #expect(fresh.values[Self.onset + 1] == 3)
        let result = RootCauseRanker().rank(data, alertTime: Self.times[Self.onset + 1])
        #expect(result.candidates.first?.service == "payment")
        #expect(result.candidates.first?.metric == IncidentData.LogMetric.errorLines)
        let blind = RootCauseRanker().rank(data)
        #expect(blind.candidates.first?.service == "payment")
    }

    /// The explanation quotes what the root cause logged since the onset: its error and never-seen templates,
    /// most lines first, with personal data masked.
    @Test func theExplanationQuotesTheRootCausesNewErrors() throws {
        var lines = Self.logs(failing: true)
        for row in Self.onset..<Self.rows {
            let time = Self.times[row] + 7
            lines.append(
                .init(
                    time: time,
                    service: "payment",
                    line: "10:11:12.000 WARN  c.e.payment.Mail#9 receipt for jane.doe@example.com bounced"
                )
            )
        }
        lines.sort { $0.time < $1.time }
        var data = Self.flatMetrics()
        data.addLogs(lines)
        let result = RootCauseRanker().rank(data, alertTime: Self.times[Self.onset + 1])
        let explanation = RootCauseRanker.explain(result, of: data)
        #expect(explanation.rootCause == "payment")
        let first = try #require(explanation.logs.first)
        #expect(first.text.contains("PaymentException: card service refused order"))
        #expect(first.isError && first.isNew)
        #expect(first.lines == 3 * (Self.rows - Self.onset))
        let warning = try #require(explanation.logs.first { $0.text.contains("receipt for") })
        #expect(!warning.isError && warning.isNew)
        #expect(!warning.text.contains("jane.doe@example.com"))
        // Nothing before the onset is quoted, and quiet logs quote nothing.
        var quiet = Self.flatMetrics()
        quiet.addLogs(Self.logs(failing: false))
        #expect(quiet.logTemplates["payment", default: []].isEmpty)
    }

    /// Errors pass up the call graph, and callers that retry log each failure several times: order logs three
    /// errors and gateway two for each one payment logs, yet payment, where they start, ranks first.
    @Test func retryingCallersDoNotOutrankTheFailingService() {
        var lines = Self.logs(failing: true)
        for row in Self.onset..<Self.rows {
            for index in 0..<3 {
                let time = Self.times[row] + Double(index) * 2 + 0.5
                for attempt in 0..<3 {
                    lines.append(
                        .init(
                            time: time,
                            service: "order",
                            line: "10:11:12.000 ERROR c.e.order.Client#7 call to payment failed (attempt \(attempt))"
                        )
                    )
                }
                for _ in 0..<2 {
                    lines.append(
                        .init(
                            time: time,
                            service: "gateway",
                            line: "10:11:12.000 ERROR c.e.gateway.Filter#3 request failed with 500"
                        )
                    )
                }
            }
        }
        lines.sort { $0.time < $1.time }
        var data = Self.flatMetrics()
        data.calls = [("gateway", "order"), ("order", "payment")]
        data.addLogs(lines)
        let result = RootCauseRanker().rank(data, alertTime: Self.times[Self.onset + 1])
        #expect(result.candidates.map(\.service) == ["payment", "order", "gateway"])
        #expect(result.candidates.first { $0.service == "order" }?.yieldedTo == "payment")
        #expect(RootCauseRanker().rank(data).candidates.first?.service == "payment")
    }

    /// Logs that cover a fault-free stretch, then nothing, then the minutes after the fault: the change belongs to
    /// the first row that shows it, not to the end of the first stretch.
    @Test func aChangeAcrossAGapInTheLogsStartsWhereItShows() {
        var data = Self.flatMetrics()
        data.addLogs(Self.logs(failing: true, rows: Array(0..<14) + Array(Self.onset..<50)))
        let blind = RootCauseRanker().rank(data)
        #expect(blind.onset == Self.times[Self.onset])
        #expect(blind.candidates.first?.service == "payment")
    }

    /// With one-minute rows, logs that cover one fault-free minute before the incident give a single reference
    /// row: that is enough for log evidence (a metric column still needs two).
    @Test func oneMinuteOfLogsBeforeTheFaultIsAReference() {
        let times = (0..<Self.rows).map { 1_700_000_000 + Double($0) * 60 }
        var data = IncidentData(
            times: times,
            columns: ["gateway", "order", "payment"].map { service in
                .init(service: service, metric: "cpu", values: (0..<Self.rows).map { 30 + Double(($0 * 3) % 4) / 10 })
            }
        )
        data.addLogs(
            Self.logs(failing: true, rows: [10] + Array(Self.onset..<46)).map { line in
                // Stretch the ten-second layout of `logs` onto one-minute rows.
                var copy = line
                copy.time = 1_700_000_000 + (line.time - 1_700_000_000) * 6
                return copy
            }
        )
        let result = RootCauseRanker().rank(data, alertTime: times[Self.onset + 1])
        #expect(result.candidates.first?.service == "payment")
        #expect(result.candidates.first?.metric == IncidentData.LogMetric.errorLines)
    }

    /// A variable the masker does not see as one (a user name) makes a new line shape per value, but the
    /// template those shapes make was written in the warm-up: no line of it is new, while a new error is.
    @Test func aNewValueOfAVariableIsNoNewTemplate() throws {
        var data = Self.flatMetrics()
        data.addLogs(
            Self.logs(failing: true).map { line in
                guard !line.line.contains("ERROR") else {
                    let bracketed = line.line.replacing("#88 ", with: "#88 [exec-2] ")
                    return .init(time: line.time, service: line.service, line: bracketed)
                }
                let name = "user\(Int(line.time - Self.times[0]) * 7 % 1000)"
                let clock = line.line.prefix { $0 != " " }
                return .init(
                    time: line.time,
                    service: line.service,
                    line: "\(clock) INFO  a.c.UserController#43 [exec-1] Login request of username: \(name)"
                )
            }
        )
        for service in ["gateway", "order"] {
            let fresh = try #require(
                data.columns.first { $0.service == service && $0.metric == IncidentData.LogMetric.newTemplateLines }
            )
            #expect(fresh.values.allSatisfy { ($0 ?? 0) == 0 }, "\(service): \(fresh.values)")
            #expect(data.logTemplates[service, default: []].isEmpty)
        }
        let payment = try #require(
            data.columns.first { $0.service == "payment" && $0.metric == IncidentData.LogMetric.newTemplateLines }
        )
        #expect(payment.values[Self.onset - 1] == 0)
        #expect(payment.values[Self.onset] == 3)
        let templates = data.logTemplates["payment", default: []]
        #expect(templates.map(\.text) == ["PaymentException: card service refused order <*>"])
        #expect(templates.first?.isNew == true && templates.first?.isError == true)
    }

    /// A logs.jsonl holds an exception's stack one line at a time: the frames and its cause belong to the error
    /// line before them, which is the one error and the one template shown.
    @Test func aStackTraceIsPartOfTheErrorBeforeIt() throws {
        var data = Self.flatMetrics()
        data.addLogs(
            Self.logs(failing: true).flatMap { line -> [IncidentData.CaseLogLine] in
                guard line.line.contains("ERROR") else { return [line] }
                let frames = [
                    "\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:197)",
                    "\tat c.e.payment.Charge.run(Charge.java:88)",
                    "Caused by: java.net.ConnectException: Connection refused",
                    "\t... 42 more",
                ]
                return [line] + frames.map { .init(time: line.time, service: line.service, line: $0) }
            }
        )
        let errors = try #require(
            data.columns.first { $0.service == "payment" && $0.metric == IncidentData.LogMetric.errorLines }
        )
        #expect(errors.values[Self.onset] == 3)
        let fresh = try #require(
            data.columns.first { $0.service == "payment" && $0.metric == IncidentData.LogMetric.newTemplateLines }
        )
        #expect(fresh.values[Self.onset] == 3)
        let templates = data.logTemplates["payment", default: []]
        #expect(templates.count == 1)
        #expect(templates.first?.text.hasSuffix("PaymentException: card service refused order <*>") == true)
        #expect(templates.first?.lines(from: Self.onset) == 3 * (Self.rows - Self.onset))
    }

    @Test func quietLogsAccuseNobody() {
        var data = Self.flatMetrics()
        data.addLogs(Self.logs(failing: false))
        let result = RootCauseRanker().rank(data, alertTime: Self.times[Self.onset + 1])
        #expect(result.candidates.allSatisfy { $0.score < 3 })
    }

    @Test func rowsWithoutLogsStayMissingAndSilenceCountsZero() throws {
        var data = Self.flatMetrics()
        var lines = Self.logs(failing: true, rows: Array(0..<12) + Array(38..<Self.rows))
        lines.removeAll { $0.service == "order" && $0.time >= Self.times[Self.onset] }
        lines.append(.init(time: Self.times[0] - 100, service: "before", line: "outside the window"))
        data.addLogs(lines)
        let errors = try #require(
            data.columns.first { $0.service == "order" && $0.metric == IncidentData.LogMetric.errorLines }
        )
        #expect(errors.values[20] == nil, "no line in row 20: unknown")
        #expect(errors.values[Self.onset] == 0, "order wrote nothing while others did: no errors")
        #expect(!data.services.contains("before"))
    }

    /// Another layout (JSON lines with a level key) works the same way: the format is detected per service.
    @Test func jsonLogsWork() {
        var data = Self.flatMetrics()
        data.addLogs(
            Self.logs(failing: true).map { line in
                let level = line.line.contains("ERROR") ? "error" : "info"
                let message = line.line.split(separator: " ", maxSplits: 3).last.map(String.init) ?? ""
                return .init(
                    time: line.time,
                    service: line.service,
                    line: #"{"level":"\#(level)","msg":"\#(message)"}"#
                )
            }
        )
        let result = RootCauseRanker().rank(data, alertTime: Self.times[Self.onset + 1])
        #expect(result.candidates.first?.service == "payment")
    }
}
