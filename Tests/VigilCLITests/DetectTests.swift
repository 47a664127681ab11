// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// Runs `vigil detect` on small CSV files.
@Suite struct DetectTests {
    private func series(_ values: [Double]) -> String {
        "timestamp,value\n"
            + values.enumerated().map {
                "2024-01-01 00:\(String(format: "%02d", $0.offset / 60)):\(String(format: "%02d", $0.offset % 60)),\($0.element)"
            }
            .joined(separator: "\n") + "\n"
    }

    @Test func nabContractHasOneRowPerInputRow() throws {
        let values = (0..<300).map { Double($0 % 10) }
        let result = try Vigil.run(["detect", "--format", "nab"], input: self.series(values))
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == "timestamp,value,anomaly_score,is_anomaly")
        #expect(lines.count == 301)
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",")
            #expect(fields.count == 4)
            let score = try #require(Double(fields[2]))
            #expect((0...1).contains(score) && (fields[3] == "0" || fields[3] == "1"))
        }
    }

    /// A spike at row 1000 of a calm series: one alert, with its evidence, in text and in JSON.
    @Test func reportsTheAlertWithItsEvidence() throws {
        var values = (0..<1200).map { 100 + Double(($0 * 7919) % 13) / 13 }
        values[1000] = 250
        let text = try Vigil.run(["detect"], input: self.series(values))
        #expect(text.status == 0)
        let alert = try #require(text.stdout.split(separator: "\n").first { $0.hasPrefix("alert") })
        #expect(alert.contains("spike") && alert.contains("value 250") && alert.contains("recent baseline"), "\(alert)")
        // The score read as odds: the calibrated tail probability behind it.
        #expect(alert.contains("(as rare as 1 in "), "\(alert)")
        #expect(text.stdout.contains("1200 points, 1 alert\n"), "\(text.stdout)")
        // The model's estimates read as four significant digits, not as seventeen.
        let expectedText = try #require(alert.split(separator: "  ").first { $0.hasPrefix("expected ") })
        let numbers = expectedText.split { !($0.isNumber || $0 == ".") }.filter { $0.contains(where: \.isNumber) }
        #expect(numbers.count == 3 && numbers.allSatisfy { $0.filter(\.isNumber).count <= 4 }, "\(expectedText)")
        #expect(expectedText.hasPrefix("expected 100."), "\(expectedText)")

        let json = try Vigil.run(["detect", "--format", "json"], input: self.series(values))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["points"] as? Int == 1200)
        let alerts = try #require(object["alerts"] as? [[String: Any]])
        #expect(alerts.count == 1)
        #expect(alerts.first?["signal"] as? String == "spike")
        #expect(alerts.first?["value"] as? Double == 250)
        let expected = try #require(alerts.first?["expected"] as? Double)
        let upper = try #require(alerts.first?["upper"] as? Double)
        #expect(abs(expected - 100.5) < 1 && upper < 250)
        let score = try #require(alerts.first?["score"] as? Double)
        let tail = try #require(alerts.first?["tail_probability"] as? Double)
        #expect(abs(tail - pow(10, -6 * score)) <= 0.01 * tail, "\(tail) for score \(score)")
    }

    /// NAB's New York taxi demand (half-hourly), a real series with a daily swing: New Year's Eve is a level shift
    /// told against the rides expected at that time of day, not against a level in the middle of the swing.
    @Test func aLevelShiftOnADailyBaselineIsToldAgainstTheExpectedValues() throws {
        let taxi = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data/nab/data/realKnownCause/nyc_taxi.csv")
        let text = try Vigil.run(["detect", taxi.path])
        let alert = try #require(text.stdout.split(separator: "\n").first { $0.contains("2014-12-31T") })
        #expect(alert.contains("level_shift_up") && alert.contains("daily baseline"), "\(alert)")
        #expect(alert.contains(" points averaged ") && alert.contains(" above expected"), "\(alert)")
    }

    /// A ramp alerts as a level shift whose evidence names the average that moved and the level it left.
    @Test func aLevelShiftReportsTheAverageThatMoved() throws {
        var values = (0..<1500).map { 20 + Double(($0 * 7919) % 13) / 13 }
        for index in 1000..<1500 { values[index] += Double(index - 1000) * 0.05 }
        let text = try Vigil.run(["detect"], input: self.series(values))
        let alert = try #require(text.stdout.split(separator: "\n").first { $0.contains("level_shift_up") })
        #expect(alert.contains("mean of ") && alert.contains(" against level "), "\(alert)")
        let json = try Vigil.run(["detect", "--format", "json"], input: self.series(values))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let alerts = try #require(object["alerts"] as? [[String: Any]])
        let shifted = try #require(alerts.first { $0["signal"] as? String == "level_shift_up" })
        let shift = try #require(shifted["shift"] as? [String: Any])
        let mean = try #require(shift["mean"] as? Double)
        let level = try #require(shift["level"] as? Double)
        #expect(mean > level && [2, 8, 64].contains(shift["points"] as? Int ?? 0), "\(shift)")
        #expect(
            alerts.filter { ($0["signal"] as? String)?.hasPrefix("level_shift") != true }.allSatisfy {
                $0["shift"] == nil
            }
        )
    }

    /// A daily swing between −10 and 110 that climbs 0.2 a row (58 a day) from day 7: the alert on the climb's
    /// first day is a new high, told against the edge of the range it left, in text and in JSON.
    @Test func aClimbingDailySwingIsToldAgainstTheRangeItLeft() throws {
        var state: UInt64 = 11
        let values = (0..<(10 * 288)).map { (index: Int) -> Double in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let swing = 50 + 60 * sin(2 * Double.pi * Double(index % 288) / 288)
            return swing + 6 * (Double(state >> 11) / Double(1 << 53) - 0.5)
                + (index >= 2016 ? 0.2 * Double(index - 2016) : 0)
        }
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let formatter = ISO8601DateFormatter()
        let csv =
            "timestamp,value\n"
            + values.enumerated().map { "\(formatter.string(from: start + Double($0.offset) * 300)),\($0.element)" }
            .joined(separator: "\n") + "\n"
        let text = try Vigil.run(["detect"], input: csv)
        let alert = try #require(
            text.stdout.split(separator: "\n").first { $0.contains(" above the range it left (highest ") },
            "\(text.stdout)"
        )
        #expect(alert.contains("  spike  ") && alert.contains("daily baseline"), "\(alert)")
        let json = try Vigil.run(["detect", "--format", "json"], input: csv)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let alerts = try #require(object["alerts"] as? [[String: Any]])
        let beyond = try #require(alerts.first { $0["range_edge"] != nil })
        let edge = try #require(beyond["range_edge"] as? Double)
        let value = try #require(beyond["value"] as? Double)
        #expect(edge > 105 && edge < 116 && value > edge, "\(beyond)")
    }

    /// Five-minute rows climbing 0.1 a row (1.2 an hour) from 50 over noise of ±1, as `name`.
    private func climb(_ name: String, from start: Double = 50, by step: Double = 0.1, rows: Int = 600) -> String {
        var state: UInt64 = 3
        let begin = Date(timeIntervalSince1970: 1_700_000_000)
        let formatter = ISO8601DateFormatter()
        return "timestamp,\(name)\n"
            + (0..<rows).map { (index: Int) -> String in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let noise = 2 * (Double(state >> 11) / Double(1 << 53) - 0.5) * step * 10
                return "\(formatter.string(from: begin + Double(index) * 300)),\(start + step * Double(index) + noise)"
            }
            .joined(separator: "\n") + "\n"
    }

    /// A disk climbing 1.2 GB an hour towards its 200 GB alerts once as trend_exhaustion, saying when it gets
    /// there and with what interval; without --limit nothing is predicted.
    @Test func aClimbTowardsTheLimitAlertsWithItsCrossingTime() throws {
        let csv = self.climb("disk_used_gb")
        let text = try Vigil.run(["detect", "--limit", "200"], input: csv)
        let alerts = text.stdout.split(separator: "\n").filter { $0.contains("trend_exhaustion") }
        #expect(alerts.count == 1, "\(text.stdout)")
        #expect(alerts.first?.contains(" per hour: reaches 200 in ") == true, "\(text.stdout)")
        let json = try Vigil.run(["detect", "--limit", "200", "--format", "json"], input: csv)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let found = try #require(
            (object["alerts"] as? [[String: Any]])?.first { $0["signal"] as? String == "trend_exhaustion" }
        )
        let perHour = try #require(found["per_hour"] as? Double)
        let hours = try #require(found["hours_to_limit"] as? Double)
        let (earliest, latest) = (try #require(found["earliest_hours"] as? Double), found["latest_hours"] as? Double)
        let value = try #require(found["value"] as? Double)
        #expect(abs(perHour - 1.2) < 0.25, "\(found)")
        #expect(abs(hours - (200 - value) / perHour) < 0.01 && earliest < hours && hours < (latest ?? .infinity))
        #expect(found["limit"] as? Double == 200 && found["crossing"] is String, "\(found)")
        let plain = try Vigil.run(["detect"], input: csv)
        #expect(!plain.stdout.contains("trend_exhaustion"), "\(plain.stdout)")
    }

    /// Free space falling 0.1 GB a row towards 0: a series that starts above its limit is watched for the fall.
    @Test func aFallTowardsTheLimitIsPredictedToo() throws {
        let text = try Vigil.run(["detect", "--limit", "0"], input: self.climb("disk_free_gb", from: 150, by: -0.1))
        let alert = try #require(
            text.stdout.split(separator: "\n").first { $0.contains("trend_exhaustion") },
            "\(text.stdout)"
        )
        #expect(alert.contains("  falling 1.") && alert.contains(" per hour: reaches 0 in "), "\(alert)")
    }

    /// node_exporter's free disk space runs out at 0, as in vigil serve: its fall is predicted without --limit.
    @Test func freeBytesFallingArePredictedWithoutALimitGiven() throws {
        let csv = self.climb("node_filesystem_avail_bytes", from: 150, by: -0.1)
        let text = try Vigil.run(["detect"], input: csv)
        let alert = try #require(
            text.stdout.split(separator: "\n").first { $0.contains("trend_exhaustion") },
            "\(text.stdout)"
        )
        #expect(alert.contains("  falling 1.") && alert.contains(" per hour: reaches 0 in "), "\(alert)")
    }

    /// A column named …_used_ratio runs out at 1, as in vigil serve: its climb is predicted without --limit.
    @Test func aUsedRatioClimbIsPredictedWithoutALimitGiven() throws {
        let text = try Vigil.run(["detect"], input: self.climb("node_memory_used_ratio", from: 0.5, by: 0.0004))
        let alert = try #require(
            text.stdout.split(separator: "\n").first { $0.contains("trend_exhaustion") },
            "\(text.stdout)"
        )
        #expect(alert.contains(" per hour: reaches 1 in "), "\(alert)")
    }

    /// A limit that is no number, or one asked of the nab contract, is refused with the reason.
    @Test func aBadLimitIsRefused() throws {
        let csv = self.climb("disk_used_gb", rows: 10)
        let notANumber = try Vigil.run(["detect", "--limit", "nan"], input: csv)
        #expect(notANumber.status != 0 && notANumber.stderr.contains("--limit must be a finite number"))
        let nab = try Vigil.run(["detect", "--limit", "5", "--format", "nab"], input: csv)
        #expect(nab.status != 0 && nab.stderr.contains("--limit does not apply to --format nab"), "\(nab.stderr)")
    }

    /// A job spiking every 310 rows (25 h 50 min at five-minute rows), and once two thirds of the way between two
    /// of its runs: the
    /// alert says off_beat and names the beat, in text and in JSON.
    @Test func aSpikeOffItsBeatNamesTheBeat() throws {
        let csv = self.nightlyJob { $0[3340] = 160 }
        let text = try Vigil.run(["detect"], input: csv)
        let alert = try #require(text.stdout.split(separator: "\n").first { $0.contains("off_beat") }, "\(text.stdout)")
        #expect(alert.hasSuffix("beat every 25 h 50 min"), "\(alert)")
        let json = try Vigil.run(["detect", "--format", "json"], input: csv)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let alerts = try #require(object["alerts"] as? [[String: Any]])
        let offBeat = try #require(alerts.first { $0["signal"] as? String == "off_beat" })
        #expect((offBeat["beat_seconds"] as? Double).map { abs($0 - 93_000) < 1_000 } == true, "\(offBeat)")
        #expect(alerts.filter { $0["signal"] as? String != "off_beat" }.allSatisfy { $0["beat_seconds"] == nil })
    }

    /// The same job, whose run at row 3140 does not come: one alert says so and names the beat.
    @Test func aMissedRunNamesTheBeat() throws {
        let csv = self.nightlyJob { $0[3140] = 100 }
        let text = try Vigil.run(["detect"], input: csv)
        let missed = text.stdout.split(separator: "\n").filter { $0.contains("missed_beat") }
        #expect(missed.count == 1, "\(text.stdout)")
        #expect(missed.first?.hasSuffix("no spike on its beat every 25 h 50 min") == true, "\(missed)")
        let json = try Vigil.run(["detect", "--format", "json"], input: csv)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let alerts = try #require(object["alerts"] as? [[String: Any]])
        let alert = try #require(alerts.first { $0["signal"] as? String == "missed_beat" })
        #expect((alert["beat_seconds"] as? Double).map { abs($0 - 93_000) < 1_000 } == true, "\(alert)")
        #expect(alert["tail_probability"] is NSNull, "\(alert)")
    }

    /// Five-minute rows of noise (±2 around 100, from a fixed linear congruential sequence) with a job spiking to
    /// 160 every 310 rows from row 40, changed by `edit`.
    private func nightlyJob(_ edit: (inout [Double]) -> Void) -> String {
        var state: UInt64 = 5
        var values = (0..<4000).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return 100 + 4 * (Double(state >> 11) / Double(1 << 53) - 0.5)
        }
        for index in stride(from: 40, to: 4000, by: 310) { values[index] = 160 }
        edit(&values)
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let formatter = ISO8601DateFormatter()
        return "timestamp,value\n"
            + values.enumerated().map { "\(formatter.string(from: start + Double($0.offset) * 300)),\($0.element)" }
            .joined(separator: "\n") + "\n"
    }

    @Test(arguments: [
        ("timestamp,value\n2024-01-01 00:00:00,abc\n", "line 2: \"abc\" is not a number"),
        ("timestamp,value\nyesterday,1\n", "line 2: \"yesterday\" is not a timestamp"),
        ("time;value\n", "line 1: expected the header timestamp,value"),
        ("timestamp,value\n", "has no data rows"),
        ("", "has no data rows"),
        ("time,cpu\n2024-01-01 00:00:00,\n2024-01-01 00:01:00,nan\n", "has no data rows with a value"),
        ("timestamp,value\n2024-01-01 00:00:00,inf\n", "line 2: \"inf\" is not a number"),
        ("timestamp,value\n2024-01-01 00:00:00,1,2\n", "line 2: 3 cells, but the header names 2"),
    ])
    func badInputNamesTheLine(_ input: String, _ message: String) throws {
        let result = try Vigil.run(["detect"], input: input)
        #expect(result.status == 1)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
        // The file is at fault, not the command line: no usage text under the error.
        #expect(!result.stderr.contains("Usage:"), "stderr: \(result.stderr)")
    }

    /// A Grafana export: quoted cells, a `Time` column and one named after the series, and holes. The holes keep
    /// their rows in the NAB contract, unscored, and are counted on standard error.
    @Test func readsAnExportWithQuotesANamedColumnAndGaps() throws {
        let input = """
            "Time","node_load1{instance=""db-1:9100""}"
            "2024-01-01 00:00:00","1.5"
            "2024-01-01 00:01:00",""
            "2024-01-01 00:02:00","NaN"
            "2024-01-01 00:03:00","2"

            """
        let result = try Vigil.run(["detect", "--format", "nab"], input: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.split(separator: "\n") == [
                "timestamp,value,anomaly_score,is_anomaly", "2024-01-01 00:00:00,1.5,0.0,0",
                "2024-01-01 00:01:00,,0.0,0", "2024-01-01 00:02:00,,0.0,0", "2024-01-01 00:03:00,2,0.0,0",
            ],
            "\(result.stdout)"
        )
        #expect(
            result.stderr.contains("2 cells have no value (empty, NaN or null; first at line 3): gaps, not scored"),
            "\(result.stderr)"
        )
        let text = try Vigil.run(["detect"], input: input)
        #expect(text.status == 0 && text.stdout.contains("2 points, 0 alerts"), "\(text.stdout)")
    }

    /// Each column after the time is a series with its own detector; alerts name their series, in time order.
    @Test func eachColumnIsASeries() throws {
        var text = "time,cpu,mem\n"
        for row in 0..<400 {
            let wiggle = Double((row * 7919) % 13) / 13
            text += "\(1_700_000_000 + 60 * row),\(row == 300 ? 95 : 50 + wiggle),\(row == 350 ? 80 : 30 + wiggle)\n"
        }
        let result = try Vigil.run(["detect", "--format", "json"], input: text)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let alerts = try #require(object["alerts"] as? [[String: Any]])
        #expect(object["points"] as? Int == 800)
        #expect(alerts.map { $0["series"] as? String } == ["cpu", "mem"], "\(alerts)")
        #expect(alerts.map { $0["value"] as? Double } == [95, 80], "\(alerts)")
        let textResult = try Vigil.run(["detect"], input: text)
        #expect(textResult.stdout.contains("  cpu  spike  value 95"), "\(textResult.stdout)")
        #expect(textResult.stdout.contains("2 series, 800 points, 2 alerts"), "\(textResult.stdout)")
        let nab = try Vigil.run(["detect", "--format", "nab"], input: text)
        #expect(nab.status != 0 && nab.stderr.contains("--format nab takes one series"), "\(nab.stderr)")
    }

    /// A counter is judged by its rate: its restart is no dip, and the alert names and gives the rate.
    @Test func aCounterIsJudgedByItsRate() throws {
        var text = "time,http_requests_total\n"
        var total = 5_000_000.0
        for row in 0..<400 {
            let rate = row == 300 ? 100 : 10 + Double((row * 7919) % 13) / 13
            total = row == 200 ? 60 * rate : total + 60 * rate
            text += "\(1_700_000_000 + 60 * row),\(total)\n"
        }
        let result = try Vigil.run(["detect", "--format", "json"], input: text)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let alerts = try #require(object["alerts"] as? [[String: Any]])
        #expect(alerts.map { $0["series"] as? String } == ["rate(http_requests_total)"], "\(alerts)")
        #expect(alerts.map { $0["value"] as? Double } == [100], "\(alerts)")
        let textResult = try Vigil.run(["detect"], input: text)
        #expect(textResult.stdout.contains("  rate(http_requests_total)  spike  value 100"), "\(textResult.stdout)")
    }

    /// From a pipe, an alert is printed when its row arrives, while the writer still holds the pipe open.
    @Test func aPipeGetsEachAlertAsItsRowArrives() throws {
        let process = Process()
        process.executableURL = Vigil.binary
        process.arguments = ["detect", "-"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var text = "timestamp,value\n"
        for row in 0..<1001 {
            let value = row == 1000 ? 250 : 100 + Double((row * 7919) % 13) / 13
            text += "\(1_700_000_000 + 60 * row),\(value)\n"
        }
        input.fileHandleForWriting.write(Data(text.utf8))
        // The pipe stays open: the alert must come without the end of the input (read aside, so a command that
        // waits for the end fails here instead of hanging the test).
        let received = LockedText()
        output.fileHandleForReading.readabilityHandler = { handle in received.append(handle.availableData) }
        let deadline = Date().addingTimeInterval(20)
        while !received.text.contains("\n") && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        output.fileHandleForReading.readabilityHandler = nil
        #expect(received.text.hasPrefix("alert  2023-11-15T14:53:20Z  spike  value 250"), "\(received.text)")
        #expect(process.isRunning, "still waiting for more rows")
        input.fileHandleForWriting.closeFile()
        process.waitUntilExit()
        let rest = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0 && rest.contains("1001 points, 1 alert"), "\(rest)")
    }

    /// A Prometheus query_range answer, as curl prints it: each result is a series named by its labels, and an
    /// error answer is reported with Prometheus's own words.
    @Test func readsAPrometheusAnswer() throws {
        func values(_ value: (Int) -> Double) -> String {
            (0..<400).map { "[\(1_700_000_000 + 60 * $0),\"\(value($0))\"]" }.joined(separator: ",")
        }
        let answer = """

            {"status":"success","data":{"resultType":"matrix","result":[\
            {"metric":{"__name__":"up","instance":"a:9100"},"values":[\(values { $0 == 300 ? 250 : 100 + Double(($0 * 7919) % 13) / 13 })]},\
            {"metric":{"__name__":"up","instance":"b:9100"},"values":[\(values { 5 + Double(($0 * 31) % 7) / 7 })]}]}}
            """
        let result = try Vigil.run(["detect", "-"], input: answer)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.contains("2023-11-15T03:13:20Z  up{instance=\"a:9100\"}  spike  value 250"),
            "\(result.stdout)"
        )
        #expect(result.stdout.contains("2 series, 800 points, 1 alert"), "\(result.stdout)")
        let failed = try Vigil.run(
            ["detect", "-"],
            input: "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"parse error at char 5\"}"
        )
        #expect(failed.status != 0 && failed.stderr.contains("Prometheus answered bad_data: parse error at char 5"))
    }

    /// Without a header the file starts with data, and the first row counts.
    @Test func aFileWithoutAHeaderStartsWithData() throws {
        let result = try Vigil.run(["detect", "--format", "nab"], input: "1700000000,1\n1700000060,2\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == 3, "\(result.stdout)")
    }

    @Test func aBadThresholdIsReportedBeforeTheFileIsRead() throws {
        let result = try Vigil.run(["detect", "--alert-threshold", "2"], input: "not a series")
        #expect(result.status != 0 && result.stderr.contains("--alert-threshold must be in (0, 1]"), "\(result.stderr)")
    }

    @Test func timestampsGoingBackAreReportedOrRejected() throws {
        let input = "timestamp,value\n2024-01-01 00:00:02,1\n2024-01-01 00:00:01,2\n"
        let lenient = try Vigil.run(["detect", "--format", "nab"], input: input)
        #expect(lenient.status == 0 && lenient.stderr.contains("first at line 3"))
        let strict = try Vigil.run(["detect", "--strict-time"], input: input)
        #expect(strict.status != 0 && strict.stderr.contains("line 3"))
    }
}

/// Text that a reader thread appends to while the test reads it.
private final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) { self.lock.withLock { self.data.append(chunk) } }

    var text: String { self.lock.withLock { String(decoding: self.data, as: UTF8.self) } }
}
