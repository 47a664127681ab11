// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// Runs `vigil forecast` on small CSV files.
@Suite struct ForecastTests {
    /// Fourteen days of a 5-minute daily square wave (high from 08:00 to 18:00).
    private func daily() -> String {
        var text = "timestamp,value\n"
        let start = Date(timeIntervalSince1970: 1_699_920_000)
        let formatter = ISO8601DateFormatter()
        for index in 0..<(14 * 288) {
            let time = start.addingTimeInterval(Double(index) * 300)
            let hour = (index % 288) / 12
            text += "\(formatter.string(from: time)),\(hour >= 8 && hour < 18 ? 80 : 20)\n"
        }
        return text
    }

    @Test func forecastsTheNextStepsWithIntervals() throws {
        let result = try Vigil.run(["forecast", "--horizon", "1h"], input: self.daily())
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == "timestamp,forecast,lower,upper")
        #expect(lines.count == 13, "one row per 5-minute step of the hour")
        // The series ends at 23:55, so the next hour is night: 20.
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",")
            let value = try #require(Double(fields[1]))
            let lower = try #require(Double(fields[2]))
            let upper = try #require(Double(fields[3]))
            #expect(abs(value - 20) < 0.5 && lower <= value && value <= upper, "\(line)")
        }
        #expect(result.stderr.contains("step 300 s, horizon 12 steps"), "\(result.stderr)")
    }

    @Test func jsonNamesTheModel() throws {
        let result = try Vigil.run(["forecast", "--horizon", "15m", "--format", "json"], input: self.daily())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((object["forecast"] as? [Any])?.count == 3)
        #expect(object["step_seconds"] as? Int == 300)
        #expect((object["model"] as? String)?.isEmpty == false)
    }

    @Test func backtestReportsOneAndHorizonStepForecasts() throws {
        let result = try Vigil.run(["forecast", "--horizon", "15m", "--backtest-from", "0.75"], input: self.daily())
        #expect(result.status == 0)
        let rows = result.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
        #expect(Set(rows.map { $0[2] }) == ["1", "3"])
        // Rows past the fitted part only, each forecast close to the noise-free value it forecast.
        #expect(rows.allSatisfy { Int($0[0])! > 3024 })
        #expect(rows.allSatisfy { abs(Double($0[3])! - Double($0[6])!) < 1 })
    }

    @Test(arguments: [
        (["--horizon", "soon"], "is not a duration"),
        (["--coverage", "1.5"], "--coverage must be between 0 and 1"),
        (["--backtest-from", "0.1"], "--backtest-from must be between"),
    ])
    func badOptionsAreExplained(_ options: [String], _ message: String) throws {
        let result = try Vigil.run(["forecast"] + options, input: self.daily())
        #expect(result.status != 0 && result.stderr.contains(message), "\(result.stderr)")
    }

    /// An export with holes (empty and NaN cells): the holes are filled between their neighbours, so the square
    /// wave's forecast is what it is without them, and the gaps are counted.
    @Test func gapsAreFilledBetweenTheirNeighbours() throws {
        var lines = self.daily().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, row) in [100, 101, 2000, 4000].enumerated() {
            lines[row] = lines[row].split(separator: ",")[0] + (index % 2 == 0 ? "," : ",NaN")
        }
        let result = try Vigil.run(["forecast", "--horizon", "1h"], input: lines.joined(separator: "\n"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("4 cells have no value (empty, NaN or null; first at line 101): filled in"),
            "\(result.stderr)"
        )
        let values = result.stdout.split(separator: "\n").dropFirst().map { Double($0.split(separator: ",")[1])! }
        #expect(values.count == 12 && values.allSatisfy { abs($0 - 20) < 0.5 }, "\(values)")
    }

    /// A file of several series: --column names the one to forecast, and without it the command says which there are.
    @Test func columnChoosesAmongSeveralSeries() throws {
        let wide = self.daily().split(separator: "\n").enumerated().map { index, line in
            index == 0 ? "time,day,flat" : "\(line),7"
        }.joined(separator: "\n")
        let unnamed = try Vigil.run(["forecast"], input: wide)
        #expect(unnamed.status != 0 && unnamed.stderr.contains("holds 2 series (day, flat); name one with --column"))
        let holes = try Vigil.run(
            ["forecast", "--column", "flat"],
            input: wide.replacingOccurrences(of: ",7", with: ",")
        )
        #expect(holes.status != 0 && holes.stderr.contains("has 0 values in 4032 rows of flat"), "\(holes.stderr)")
        let wrong = try Vigil.run(["forecast", "--column", "disk"], input: wide)
        #expect(wrong.status != 0 && wrong.stderr.contains("has no column disk"), "\(wrong.stderr)")
        for (column, expected) in [("day", 20.0), ("flat", 7.0)] {
            let result = try Vigil.run(["forecast", "--horizon", "15m", "--column", column], input: wide)
            let values = result.stdout.split(separator: "\n").dropFirst().map { Double($0.split(separator: ",")[1])! }
            #expect(values.count == 3 && values.allSatisfy { abs($0 - expected) < 0.5 }, "\(column): \(values)")
        }
    }

    /// A long history is fitted on its latest rows, and says so: the level it ended at is what it forecasts.
    @Test func aLongHistoryIsFittedOnItsLatestRows() throws {
        var text = "timestamp,value\n"
        for row in 0..<25_000 {
            text += "\(1_700_000_000 + 60 * row),\(row < 13_000 ? 100 : 10 + Double((row * 7919) % 13) / 13)\n"
        }
        let result = try Vigil.run(["forecast", "--horizon", "5m"], input: text)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("fitting on the last 11,520 of 25,000 rows"), "\(result.stderr)")
        let values = result.stdout.split(separator: "\n").dropFirst().map { Double($0.split(separator: ",")[1])! }
        #expect(values.count == 5 && values.allSatisfy { abs($0 - 10.5) < 1 }, "\(values)")
    }

    @Test func tooShortASeriesIsAnError() throws {
        let result = try Vigil.run(["forecast"], input: "timestamp,value\n2024-01-01 00:00:00,1\n")
        #expect(result.status != 0 && result.stderr.contains("at least 20"), "\(result.stderr)")
    }
}
