// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilTestSupport

/// `vigil rca` on a constructed case: the contract of ../shared/eval/RCA_CASES.md, and the reasoning it promises.
@Suite struct RCATests {
    /// A fresh, empty case folder.
    static func caseFolder() throws -> URL {
        let folder = try Scratch.folder("vigil-rca")
        return folder
    }

    /// Writes `folder`'s metrics.csv: `rows` one-minute rows from 1_700_000_000, columns `header` after `time`,
    /// each row's cells from its index and a small repeating wiggle (0 to 0.4) that keeps every spread above zero.
    static func writeMinuteRows(
        _ header: String,
        rows: Int,
        to folder: URL,
        cells: (_ row: Int, _ wiggle: Double) -> [Double]
    ) throws {
        var csv = "time,\(header)\n"
        for row in 0..<rows {
            let values = cells(row, Double((row * 7) % 5) / 10).map { "\($0)" }
            csv += "\(1_700_000_000 + row * 60),\(values.joined(separator: ","))\n"
        }
        try Data(csv.utf8).write(to: folder.appendingPathComponent("metrics.csv"))
    }

    /// The JSON object `vigil rca --output json` printed.
    static func object(printedBy result: Vigil.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    /// Three services, front → api → db; db's latency jumps at row 60, api's latency follows, front's CPU
    /// falls (less work arrives) and its request count rises a little.
    func makeCase(hint: Double?) throws -> URL {
        let folder = try Self.caseFolder()
        var csv =
            "time,front.cpu,front.requests_Sum,\"api.lat_90\",api.cpu,db.lat_90,db.availability_Average,cache.cpu\n"
        for row in 0..<100 {
            let wiggle = Double((row * 7) % 5) / 10
            let broken = row >= 60
            let db = broken ? 80 + wiggle : 5 + wiggle
            let api = broken ? 60 + wiggle : 20 + wiggle
            let front = broken ? 10 + wiggle : 30 + wiggle
            let cacheCPU = row % 9 == 0 ? "" : String(3 + wiggle)  // gaps: empty cells are missing values
            csv += "\(1_700_000_000 + row * 60),\(front),\(100 + row % 3),\(api),\(12 + wiggle),\(db),100,\(cacheCPU)\n"
        }
        try Data(csv.utf8).write(to: folder.appendingPathComponent("metrics.csv"))
        let topology =
            #"{"services": ["front", "api", "db", "cache", "queue"], "calls": [["front", "api"], ["api", "db"], ["api", "cache"]]}"#
        try Data(topology.utf8).write(to: folder.appendingPathComponent("topology.json"))
        if let hint {
            try Data(#"{"alert_time": \#(hint), "note": "unknown keys are ignored"}"#.utf8).write(
                to: folder.appendingPathComponent("hint.json")
            )
        }
        return folder
    }

    @Test(arguments: [nil, 1_700_003_600.0])
    func ranksTheDeepestDeviatingServiceFirst(hint: Double?) throws {
        let folder = try self.makeCase(hint: hint)
        let result = try Vigil.run(["rca", folder.path, "--output", "json"], input: "")
        #expect(result.status == 0, "\(result.stderr)")
        let object = try Self.object(printedBy: result)
        let ranking = try #require(object["ranking"] as? [[String: Any]])
        let services = ranking.compactMap { $0["service"] as? String }
        #expect(services.first == "db")
        #expect(Set(services) == ["front", "api", "db", "cache", "queue"], "every known service is ranked once")
        #expect(ranking.allSatisfy { $0["score"] is NSNumber })
        let confidences = ranking.compactMap { ($0["confidence"] as? NSNumber)?.doubleValue }
        #expect(confidences.count == ranking.count)
        #expect(abs(confidences.reduce(0, +) - 1) < 1e-6, "confidences are shares: \(confidences)")
        #expect(confidences.first == confidences.max())
        #expect(ranking.first { $0["service"] as? String == "api" }?["symptom_of"] as? String == "db")
        let onset = try #require(object["onset"] as? Double)
        #expect(abs(onset - 1_700_003_600) <= 60, "the onset is found at the step: \(onset)")
        #expect(object["onset_detected"] as? Bool == (hint == nil))
        #expect(object["root_cause"] as? String == "db")
        #expect(object["impact_chain"] as? [String] == ["db", "api"], "front moved too little to count")
        #expect((object["timeline"] as? [[String: Any]])?.first?["service"] as? String == "db")
        #expect((object["action"] as? String)?.isEmpty == false)
    }

    /// A caller whose CPU saturated keeps its latency, and both outputs say why: its callee moved clearly, but not
    /// twice as far.
    @Test func saysWhenACallerIsSlowOnItsOwnAccount() throws {
        let folder = try Self.caseFolder()
        try Self.writeMinuteRows("front.cpu,front.lat_90,api.lat_90", rows: 100, to: folder) { row, wiggle in
            row >= 60 ? [45 + wiggle, 610 + wiggle, 40 + wiggle] : [15 + wiggle, 10 + wiggle, 10 + wiggle]
        }
        try Data(#"{"services": ["front", "api"], "calls": [["front", "api"]]}"#.utf8).write(
            to: folder.appendingPathComponent("topology.json")
        )
        let json = try Vigil.run(["rca", folder.path, "--output", "json"], input: "")
        #expect(json.status == 0, "\(json.stderr)")
        let ranking = try #require(try Self.object(printedBy: json)["ranking"] as? [[String: Any]])
        #expect(ranking.first?["service"] as? String == "front")
        let own = try #require(ranking.first?["slow_on_its_own"] as? [String: Any])
        #expect(own["callee"] as? String == "api" && own["metric"] as? String == "cpu")
        let text = try Vigil.run(["rca", folder.path], input: "")
        #expect(text.stdout.contains("(slow on its own account: its cpu moved "), "\(text.stdout)")
        #expect(text.stdout.contains("; api, which it calls, "))
    }

    /// A callee whose metrics stop at the onset (its pod was killed) while its caller's errors rise: both outputs
    /// name it first, say when it last reported, and say to check that it runs.
    @Test func namesACalleeThatStoppedReporting() throws {
        let folder = try Self.caseFolder()
        var csv = "time,front.errors,front.cpu,pay.cpu,pay.memory\n"
        for row in 0..<100 {
            let wiggle = Double((row * 7) % 5) / 10
            let pay = row < 60 ? "\(30 + wiggle),\(500 + wiggle)" : ","
            csv += "\(1_700_000_000 + row * 60),\(row < 60 ? 1 + wiggle : 40 + wiggle),\(20 + wiggle),\(pay)\n"
        }
        try Data(csv.utf8).write(to: folder.appendingPathComponent("metrics.csv"))
        try Data(#"{"services": ["front", "pay"], "calls": [["front", "pay"]]}"#.utf8).write(
            to: folder.appendingPathComponent("topology.json")
        )
        let json = try Vigil.run(["rca", folder.path, "--output", "json"], input: "")
        #expect(json.status == 0, "\(json.stderr)")
        let object = try Self.object(printedBy: json)
        let ranking = try #require(object["ranking"] as? [[String: Any]])
        #expect(ranking.map { $0["service"] as? String } == ["pay", "front"])
        #expect(ranking.first?["stopped_after"] as? String == "2023-11-14T23:12:20Z")
        #expect((object["action"] as? String)?.hasPrefix("Check whether pay is still running") == true)
        let text = try Vigil.run(["rca", folder.path], input: "")
        #expect(text.stdout.contains("1. pay"), "\(text.stdout)")
        #expect(text.stdout.contains("(stopped reporting at the onset: its last value at 2023-11-14T23:12:20Z)"))
        #expect(text.stdout.contains("because it stopped reporting as the incident began"))
    }

    @Test func explainsInText() throws {
        let folder = try self.makeCase(hint: nil)
        let result = try Vigil.run(["rca", folder.path], input: "")
        #expect(result.status == 0)
        #expect(result.stdout.contains("1. db"))
        #expect(
            result.stdout.range(of: #"1\. db  score [0-9.]+, confidence [0-9]+ %"#, options: .regularExpression) != nil
        )
        #expect(result.stdout.contains("likely a symptom of db"))
        #expect(!result.stdout.contains("no candidate stands out"), "db does: \(result.stdout)")
        #expect(result.stdout.contains("impact chain: db → api"), "\(result.stdout)")
        #expect(result.stdout.contains("try first: Scale db out"))
    }

    /// A host metric that moved on three machines at once: the report gives its move in spreads as measured and
    /// says what it counted for, in text and JSON; the service whose own latency rose comes first.
    @Test func saysWhatADiscountedMetricCountedFor() throws {
        let folder = try Self.caseFolder()
        let hosts = ["a", "b", "c"].map { "\($0).NodeNetworkReceiveBytes" }.joined(separator: ",")
        try Self.writeMinuteRows("\(hosts),d.latency_p90", rows: 100, to: folder) { row, wiggle in
            let host = (row >= 60 ? 4000 : 1000) + 50 * wiggle
            return [host, host + 7, host + 13, (row >= 60 ? 0.25 : 0.1) + 0.025 * wiggle]
        }
        let json = try Vigil.run(["rca", folder.path, "--output", "json"], input: "")
        #expect(json.status == 0, "\(json.stderr)")
        let ranking = try #require(try Self.object(printedBy: json)["ranking"] as? [[String: Any]])
        #expect(ranking.first?["service"] as? String == "d")
        #expect(ranking.first?["discount"] == nil)
        #expect(ranking.first?["weight"] as? Double == 1)
        let host = try #require(ranking.first { $0["service"] as? String == "a" })
        #expect(host["discount"] as? String == "cluster")
        #expect(host["moved_on_services"] as? Int == 3)
        let weight = try #require(host["weight"] as? Double)
        let spreads = try #require(host["spreads"] as? Double)
        let score = try #require(host["score"] as? Double)
        #expect(abs(weight - 0.1) < 1e-9)
        #expect(abs(spreads * weight - score) < 1e-6 * score, "the score is the move times what it counts for")
        let text = try Vigil.run(["rca", folder.path], input: "")
        #expect(
            text.stdout.contains("counted at 0.1: the same host metric moved on 3 services at once"),
            "\(text.stdout)"
        )
        #expect(text.stdout.contains("NodeNetworkReceiveBytes moved \(String(format: "%.1f", spreads)) robust spreads"))
    }

    /// A code fault that only the logs and spans show: metrics are flat, payment's spans fail and its log
    /// throws. A malformed line in each file is skipped and reported, not fatal.
    @Test func readsLogsAndSpans() throws {
        let folder = try Self.caseFolder()
        var csv = "time,gateway.cpu,order.cpu,payment.cpu\n"
        var spans = ""
        var logs = ""
        for row in 0..<60 {
            let time = 1_700_000_000 + row * 10
            let wiggle = Double((row * 7) % 5) / 10
            csv += "\(time),\(30 + wiggle),\(20 + wiggle),\(10 + wiggle)\n"
            let broken = row >= 40
            for request in 0..<10 {
                let start = Double(time) + Double(request)
                let failed = broken && request < 6
                let trace = "t\(row)-\(request)"
                spans +=
                    #"{"trace_id": "\#(trace)", "span_id": "g", "parent_id": null, "service": "gateway", "operation": "/pay", "start": \#(start), "duration_ms": 40, "error": \#(failed)}"#
                    + "\n"
                spans +=
                    #"{"trace_id": "\#(trace)", "span_id": "o", "parent_id": "g", "service": "order", "start": \#(start + 0.001), "duration_ms": 30, "error": \#(failed)}"#
                    + "\n"
                spans +=
                    #"{"trace_id": "\#(trace)", "span_id": "p", "parent_id": "o", "service": "payment", "start": \#(start + 0.002), "duration_ms": 20}"#
                    + "\n"
                let line =
                    failed ? "ERROR PaymentException: card refused for order \(row)" : "INFO charged order \(row)"
                logs += #"{"time": \#(start + 0.01), "service": "payment", "line": "\#(line)"}"# + "\n"
                logs += #"{"time": \#(start + 0.02), "service": "order", "line": "INFO order \#(row) placed"}"# + "\n"
            }
        }
        spans += "{not json\n"
        logs += #"{"time": "soon", "service": "payment"}"# + "\n"
        try Data(csv.utf8).write(to: folder.appendingPathComponent("metrics.csv"))
        try Data(spans.utf8).write(to: folder.appendingPathComponent("spans.jsonl"))
        try Data(logs.utf8).write(to: folder.appendingPathComponent("logs.jsonl"))
        try Data(#"{"alert_time": 1700000410}"#.utf8).write(to: folder.appendingPathComponent("hint.json"))
        let result = try Vigil.run(["rca", folder.path, "--output", "json"], input: "")
        #expect(result.status == 0, "\(result.stderr)")
        let object = try Self.object(printedBy: result)
        let ranking = try #require(object["ranking"] as? [[String: Any]])
        #expect(ranking.first?["service"] as? String == "payment")
        #expect(
            ["span_errors", "log_error_lines", "log_new_template_lines"].contains(
                ranking.first?["metric"] as? String ?? ""
            )
        )
        let quoted = try #require(object["log_evidence"] as? [[String: Any]])
        #expect((quoted.first?["template"] as? String)?.contains("PaymentException: card refused") == true)
        #expect(quoted.first?["error"] as? Bool == true)
        #expect(
            result.stderr.contains("spans.jsonl: skipped 1 line that is not") && result.stderr.contains("line 1801")
        )
        #expect(result.stderr.contains("logs.jsonl: skipped 1 line that is not"))
    }

    /// spans.jsonl's `operation` tells where a call that failed with no child was going: calls to payment lost
    /// from row 40 count for payment, not as order's own failures.
    @Test func readsWhereALostCallWasGoing() throws {
        let folder = try Self.caseFolder()
        var csv = "time,order.cpu,payment.cpu\n"
        var spans = ""
        for row in 0..<60 {
            let time = 1_700_000_000 + row * 10
            csv += "\(time),\(20 + Double((row * 7) % 5) / 10),\(10 + Double((row * 3) % 5) / 10)\n"
            for request in 0..<10 {
                let start = Double(time) + Double(request)
                let lost = row >= 40 && request < 6
                let trace = "t\(row)-\(request)"
                spans +=
                    #"{"trace_id": "\#(trace)", "span_id": "o", "parent_id": null, "service": "order", "operation": "POST /order", "start": \#(start), "duration_ms": 30, "error": \#(lost)}"#
                    + "\n"
                spans +=
                    #"{"trace_id": "\#(trace)", "span_id": "c", "parent_id": "o", "service": "order", "operation": "POST /pay", "start": \#(start + 0.001), "duration_ms": 25, "error": \#(lost)}"#
                    + "\n"
                if !lost {
                    spans +=
                        #"{"trace_id": "\#(trace)", "span_id": "p", "parent_id": "c", "service": "payment", "operation": "POST /pay", "start": \#(start + 0.002), "duration_ms": 20}"#
                        + "\n"
                }
            }
        }
        try Data(csv.utf8).write(to: folder.appendingPathComponent("metrics.csv"))
        try Data(spans.utf8).write(to: folder.appendingPathComponent("spans.jsonl"))
        try Data(#"{"alert_time": 1700000410}"#.utf8).write(to: folder.appendingPathComponent("hint.json"))
        let result = try Vigil.run(["rca", folder.path, "--output", "json"], input: "")
        #expect(result.status == 0, "\(result.stderr)")
        let object = try Self.object(printedBy: result)
        let ranking = try #require(object["ranking"] as? [[String: Any]])
        #expect(ranking.first?["service"] as? String == "payment")
        #expect(ranking.first?["metric"] as? String == "span_unanswered_calls")
        #expect((object["action"] as? String)?.hasPrefix("Check whether payment is up and reachable") == true)
    }

    /// metrics.csv cells: quoted names and cells, CRLF line ends, blank lines, short rows (the rest are empty), and
    /// cells that are not finite numbers (missing) all read as the format says.
    @Test func readsMetricsCellsAsTheFormatSays() throws {
        let folder = try Self.caseFolder()
        var csv = "time,\"a.cpu\",b.mem\r\n"
        for row in 0..<40 {
            let value = row < 30 ? 1.0 + Double(row % 3) * 0.01 : 50.0
            csv += row == 5 ? "\n" : ""
            csv += row == 7 ? "\(1000 + row),\"\(value)\"\r\n" : "\(1000 + row),\(value),\(row == 9 ? "inf" : "2")\r\n"
        }
        csv += "1040,50,x7\r\n1041,50,2,3\r\n1042,\"50\",2,\"4\"\r\n"
        try Data(csv.utf8).write(to: folder.appendingPathComponent("metrics.csv"))
        let result = try Vigil.run(["rca", folder.path, "--output", "json"], input: "")
        #expect(result.status == 0, "\(result.stderr)")
        let object = try Self.object(printedBy: result)
        let ranking = try #require(object["ranking"] as? [[String: Any]])
        #expect(ranking.first?["service"] as? String == "a")
        #expect(ranking.first?["metric"] as? String == "cpu")
        #expect(object["onset"] as? Double == 1030)
        // The header's line end is no part of its last name.
        #expect(ranking.contains { $0["service"] as? String == "b" && $0["metric"] as? String == "mem" })
        // Cells that are no finite number, and cells beyond the header, are missing, and said so.
        #expect(
            result.stderr.contains(
                "read 4 cells as missing: not a finite number, or beyond the header (first at line 12, b.mem)"
            ),
            "\(result.stderr)"
        )
    }

    /// Counters are read as their rate, and the run says so: api's request counter climbs all along (read raw, a
    /// change in the middle of the window) while db's CPU jumps at row 80.
    @Test func readsCountersAsTheirRate() throws {
        let folder = try Self.caseFolder()
        var total = 10_000.0
        try Self.writeMinuteRows("api.http_requests_total,api.cpu,db.cpu", rows: 100, to: folder) { row, wiggle in
            total += 60 * (5 + wiggle)
            return [total, 20 + wiggle, row >= 80 ? 90 + wiggle : 30 + wiggle]
        }
        let result = try Vigil.run(["rca", folder.path, "--output", "json"], input: "")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("read 1 column as cumulative counters, judged by their increase per second"),
            "\(result.stderr)"
        )
        let object = try Self.object(printedBy: result)
        let ranking = try #require(object["ranking"] as? [[String: Any]])
        #expect(ranking.first?["service"] as? String == "db")
        #expect(object["onset"] as? Double == Double(1_700_000_000 + 80 * 60))
        let api = ranking.first { $0["service"] as? String == "api" }
        #expect(["cpu", "rate(http_requests_total)"].contains(api?["metric"] as? String ?? ""), "\(ranking)")
    }

    /// Two incidents in one window: db's latency rises for rows 30–44, then cache's CPU from row 70 on. The alert
    /// time, given as an option in either spelling, chooses which one is explained, and overrides hint.json.
    @Test func theAlertTimeChoosesTheIncident() throws {
        let folder = try Self.caseFolder()
        try Self.writeMinuteRows("api.lat_90,db.lat_90,cache.cpu", rows: 100, to: folder) { row, wiggle in
            let db = (30..<45).contains(row) ? 80 + wiggle : 5 + wiggle
            let api = (30..<45).contains(row) ? 60 + wiggle : 20 + wiggle
            return [api, db, row >= 70 ? 90 + wiggle : 3 + wiggle]
        }
        try Data(#"{"calls": [["api", "db"], ["api", "cache"]]}"#.utf8).write(
            to: folder.appendingPathComponent("topology.json")
        )
        try Data(#"{"alert_time": 1700004200}"#.utf8).write(to: folder.appendingPathComponent("hint.json"))
        func first(_ arguments: [String]) throws -> (service: String?, onset: Double?) {
            let result = try Vigil.run(["rca", folder.path, "--output", "json"] + arguments, input: "")
            #expect(result.status == 0, "\(result.stderr)")
            let object = try Self.object(printedBy: result)
            let ranking = try #require(object["ranking"] as? [[String: Any]])
            return (ranking.first?["service"] as? String, object["onset"] as? Double)
        }
        let hinted = try first([])
        #expect(hinted.service == "cache", "hint.json names row 70")
        let earlier = try first(["--alert-time", "2023-11-14T22:43:20Z"])  // Unix 1_700_001_800: row 30
        #expect(earlier.service == "db")
        #expect(earlier.onset.map { abs($0 - 1_700_001_800) <= 60 } == true, "\(String(describing: earlier.onset))")
        #expect(try first(["--alert-time", "1700001800"]).service == "db")
        let text = try Vigil.run(["rca", folder.path, "--alert-time", "1700001800"], input: "")
        #expect(text.stdout.contains("(from --alert-time)"), "\(text.stdout)")
    }

    /// Two incidents that last: db and api step up at row 30, cache's CPU and memory at row 70. The onset found is
    /// where most metrics changed; the other change is named, and its time as --alert-time explains it.
    /// Two services whose CPU moved alike: the report says that neither stands out, and to weigh the first three.
    @Test func saysWhenNoCandidateStandsOut() throws {
        let folder = try Self.caseFolder()
        try Self.writeMinuteRows("api.cpu,db.cpu,cache.cpu", rows: 60, to: folder) { row, wiggle in
            let moved = row >= 40 ? 50.0 : 0
            return [10 + moved + wiggle, 10 + moved + wiggle, 10 + wiggle]
        }
        let text = try Vigil.run(["rca", folder.path], input: "")
        #expect(text.status == 0, "\(text.stderr)")
        #expect(
            text.stdout.range(
                of: #"no candidate stands out \(the first holds [0-9]+ % of the evidence\): weigh the first three"#,
                options: .regularExpression
            ) != nil,
            "\(text.stdout)"
        )
    }

    @Test func namesTheOtherChangesInTheWindow() throws {
        let folder = try Self.caseFolder()
        let header = "api.lat_90,db.lat_90,db.cpu,cache.cpu,cache.mem"
        try Self.writeMinuteRows(header, rows: 100, to: folder) { row, wiggle in
            let first = row >= 30 ? 50.0 : 0
            let second = row >= 70 ? 60.0 : 0
            return [
                20 + first + wiggle, 5 + first + wiggle, 10 + first + wiggle, 3 + second + wiggle, 40 + second + wiggle,
            ]
        }
        let blind = try Vigil.run(["rca", folder.path, "--output", "json"], input: "")
        #expect(blind.status == 0, "\(blind.stderr)")
        let object = try Self.object(printedBy: blind)
        #expect(object["onset"] as? Double == 1_700_001_800)
        let others = try #require(object["other_changes"] as? [[String: Any]])
        #expect(others.count == 1)
        #expect(others.first?["time"] as? Double == 1_700_004_200)
        #expect(others.first?["metrics"] as? Int == 2)
        #expect(others.first?["root_cause"] as? String == "cache", "what its time as the alert time would name")
        #expect(((others.first?["confidence"] as? NSNumber)?.doubleValue ?? 0) > 0.5)
        let text = try Vigil.run(["rca", folder.path], input: "")
        #expect(
            text.stdout.range(
                of: #"other changes in this window: 2023-11-14T23:23:20Z \(2 metrics; points at cache, [0-9]+ %\)"#,
                options: .regularExpression
            ) != nil,
            "\(text.stdout)"
        )
        let second = try Vigil.run(["rca", folder.path, "--alert-time", "2023-11-14T23:23:20Z"], input: "")
        #expect(second.stdout.contains("1. cache"), "\(second.stdout)")
        #expect(!second.stdout.contains("other changes"), "a given alert time names no others")
        let first = try Vigil.run(["rca", folder.path, "--alert-time", "1700001800"], input: "")
        #expect(first.stdout.contains("1. db"), "\(first.stdout)")
    }

    /// A burst on db that came back, then four latencies a little higher from row 70: the change found at row 70
    /// moves nothing clearly, so the onset goes back to the burst, and the report says so.
    @Test func saysWhenTheOnsetMovedBackFromAQuietChange() throws {
        let folder = try Self.caseFolder()
        try Self.writeMinuteRows("db.cpu,api.lat_90,front.lat_90,mail.lat_90,cache.lat_90", rows: 100, to: folder) {
            row,
            wiggle in
            let step = row >= 70 ? 5.0 : 0
            return [(40..<44).contains(row) ? 90 : 20 + wiggle] + Array(repeating: 50 + step + wiggle, count: 4)
        }
        let json = try Vigil.run(["rca", folder.path, "--output", "json"], input: "")
        #expect(json.status == 0, "\(json.stderr)")
        let object = try Self.object(printedBy: json)
        #expect(object["onset"] as? Double == 1_700_002_400)
        let quiet = try #require(object["quiet_onset"] as? Double)
        #expect(abs(quiet - 1_700_004_200) <= 60)
        #expect(object["root_cause"] as? String == "db")
        let text = try Vigil.run(["rca", folder.path], input: "")
        #expect(text.stdout.contains("(found in the data; nothing moved more than 3 spreads from 2023-11-14T23:"))
        #expect(text.stdout.contains("so the onset is the latest row before it from which something did)"))
    }

    @Test func rejectsAnAlertTimeItCannotUse() throws {
        let folder = try self.makeCase(hint: nil)
        let words = try Vigil.run(["rca", folder.path, "--alert-time", "yesterday"], input: "")
        #expect(words.status != 0 && words.stderr.contains("is not Unix seconds or an ISO 8601 time"))
        let before = try Vigil.run(["rca", folder.path, "--alert-time", "1600000000"], input: "")
        #expect(before.status != 0 && before.stderr.contains("lies outside the metrics"), "\(before.stderr)")
        let milliseconds = try Vigil.run(["rca", folder.path, "--alert-time", "1700003600000"], input: "")
        #expect(
            milliseconds.status != 0
                && milliseconds.stderr.contains("looks like Unix milliseconds; give Unix seconds (1700003600)"),
            "\(milliseconds.stderr)"
        )
        for (hint, complaint) in [("[1]", "expected a JSON object"), (#"{"alert_time": "soon"}"#, "must be a number")] {
            try Data(hint.utf8).write(to: folder.appendingPathComponent("hint.json"))
            let result = try Vigil.run(["rca", folder.path], input: "")
            #expect(result.status != 0 && result.stderr.contains(complaint), "\(hint): \(result.stderr)")
        }
        try Data(#"{"note": "no alert time"}"#.utf8).write(to: folder.appendingPathComponent("hint.json"))
        let blind = try Vigil.run(["rca", folder.path], input: "")
        #expect(blind.status == 0 && blind.stdout.contains("(found in the data)"), "a hint without a time is no hint")
    }

    /// An export often ends before the page comes: an alert within the lead after the last row still finds the
    /// change before it; one later than that cannot have seen anything in the rows.
    @Test func takesAnAlertThatCameAfterTheLastRow() throws {
        let folder = try Self.caseFolder()
        try Self.writeMinuteRows("api.lat_90,db.lat_90,db.cpu", rows: 40, to: folder) { row, wiggle in
            row >= 35 ? [60 + wiggle, 80 + wiggle, 12 + wiggle] : [20 + wiggle, 5 + wiggle, 12 + wiggle]
        }
        try Data(#"{"services": ["api", "db"], "calls": [["api", "db"]]}"#.utf8).write(
            to: folder.appendingPathComponent("topology.json")
        )
        let last = 1_700_000_000 + 39 * 60
        let late = try Vigil.run(["rca", folder.path, "--alert-time", "\(last + 60)", "--output", "json"], input: "")
        #expect(late.status == 0, "\(late.stderr)")
        let object = try Self.object(printedBy: late)
        #expect(object["root_cause"] as? String == "db")
        #expect(object["onset"] as? Double == Double(1_700_000_000 + 35 * 60), "the change in the lead is the onset")
        #expect(object["onset_basis"] as? String == "change_before_alert")
        let text = try Vigil.run(["rca", folder.path, "--alert-time", "\(last + 60)"], input: "")
        #expect(text.stdout.contains("the alert came 1 min after the last row"), "\(text.stdout)")
        #expect(
            text.stdout.contains("(from --alert-time: metrics changed clearly 5 min before the alert)"),
            "\(text.stdout)"
        )
        // A fault of three rows changes no level: with nothing changing clearly in the lead, its rows are judged.
        let short = try Self.caseFolder()
        try Self.writeMinuteRows("api.lat_90,db.lat_90", rows: 40, to: short) { row, wiggle in
            [20 + wiggle, (30..<33).contains(row) ? 80 + wiggle : 5 + wiggle]
        }
        let quiet = try Vigil.run(["rca", short.path, "--alert-time", "\(1_700_000_000 + 34 * 60)"], input: "")
        #expect(quiet.stdout.contains("nothing changed clearly in the 5 min before the alert"), "\(quiet.stdout)")
        #expect(quiet.stdout.contains("1. db"), "\(quiet.stdout)")
        let tooLate = try Vigil.run(["rca", folder.path, "--alert-time", "\(last + 600)"], input: "")
        #expect(tooLate.status != 0, "\(tooLate.stdout)")
        #expect(tooLate.stderr.contains("an alert may come up to 5 min after the last row"), "\(tooLate.stderr)")
    }

    /// A load balancer's URL, a leaf beside the service behind it, is named as that service seen from the
    /// callers' side, in text and in JSON.
    @Test func namesALeafThatIsAViewOfItsSibling() throws {
        let folder = try Self.caseFolder()
        let header = "balancer.availability,search.availability,site.latency,table.latency"
        try Self.writeMinuteRows(header, rows: 60, to: folder) { row, wiggle in
            row >= 40 ? [60, 75, 50 + wiggle, 10 + wiggle] : [100, 100, 50 + wiggle, 10 + wiggle]
        }
        let topology = #"{"services": [], "calls": [["site", "balancer"], ["site", "search"], ["search", "table"]]}"#
        try Data(topology.utf8).write(to: folder.appendingPathComponent("topology.json"))
        let alert = ["--alert-time", "\(1_700_000_000 + 40 * 60)"]
        let text = try Vigil.run(["rca", folder.path] + alert, input: "")
        #expect(text.stdout.contains("1. search"), "\(text.stdout)")
        #expect(
            text.stdout.contains("likely search seen from its callers' side (a load balancer or URL in front of it)"),
            "\(text.stdout)"
        )
        let json = try Self.object(
            printedBy: try Vigil.run(["rca", folder.path, "--output", "json"] + alert, input: "")
        )
        let ranking = try #require(json["ranking"] as? [[String: Any]])
        let balancer = try #require(ranking.first { $0["service"] as? String == "balancer" })
        #expect(balancer["view_of"] as? String == "search" && balancer["symptom_of"] as? String == "search")
    }

    @Test func reportsAnUnreadableCase() throws {
        let folder = try Self.caseFolder()
        let missing = try Vigil.run(["rca", folder.path, "--output", "json"], input: "")
        #expect(missing.status != 0 && missing.stderr.contains("metrics.csv"))
        try Data("time,a.cpu\nnoon,1\n".utf8).write(to: folder.appendingPathComponent("metrics.csv"))
        let bad = try Vigil.run(["rca", folder.path], input: "")
        #expect(bad.status != 0 && bad.stderr.contains("line 2"))
        try Data("time,a.cpu,b.cpu\n".utf8).write(to: folder.appendingPathComponent("metrics.csv"))
        let empty = try Vigil.run(["rca", folder.path], input: "")
        #expect(empty.status != 0 && empty.stderr.contains("has a header but no rows"), "\(empty.stderr)")
    }

    /// A topology.json that is not JSON is optional data gone bad: the ranking goes on without the graph, saying so.
    @Test func rankingGoesOnWithoutAnUnreadableTopology() throws {
        let folder = try Self.caseFolder()
        try Data("time,a.cpu,b.cpu\n1,1,1\n2,1,1\n3,9,1\n".utf8).write(to: folder.appendingPathComponent("metrics.csv"))
        try Data("{\"calls\": [[\"a\", ".utf8).write(to: folder.appendingPathComponent("topology.json"))
        let result = try Vigil.run(["rca", folder.path, "--output", "json"], input: "")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("topology.json is not a JSON object"), "\(result.stderr)")
        #expect(result.stdout.contains("\"ranking\""))
    }
}
