// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import VigilCore

/// A metric series read from a CSV file with the header `timestamp,value`, as `vigil detect` and
/// `vigil forecast` take it.
enum SeriesFile {
    /// One row.
    struct Point {
        /// The timestamp as written.
        var raw: String
        var time: Timestamp
        var value: Double
    }

    /// Reads every row; a bad row is an error naming its line. Timestamps that do not increase are kept in
    /// file order and reported on standard error, or rejected with `strictTime`.
    static func read(_ path: String, command: String, strictTime: Bool) throws -> [Point] {
        var reader = try LineReader(path: path)
        var points: [Point] = []
        var problem: String?
        var duplicates: [Int] = []
        try reader.forEachLine { line, number, _ in
            guard problem == nil else { return }
            let text = line.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
            if number == 1 {
                let header = text.lowercased().split(separator: ",").map { $0.trimmingCharacters() }
                if header.count < 2 || header[0] != "timestamp" || header[1] != "value" {
                    problem = "line 1: expected the header timestamp,value, found \"\(text.prefix(80))\""
                }
                return
            }
            if text.allSatisfy({ $0 == " " }) { return }
            let fields = text.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count >= 2 else {
                problem = "line \(number): expected timestamp,value, found \"\(text.prefix(80))\""
                return
            }
            let timeText = Array(fields[0].utf8)
            guard let time = TimestampParser.parse(timeText.span) else {
                problem = "line \(number): \"\(fields[0].prefix(40))\" is not a timestamp"
                return
            }
            guard let value = Double(fields[1].trimmingCharacters()), value.isFinite else {
                problem = "line \(number): \"\(fields[1].prefix(40))\" is not a number"
                return
            }
            if let last = points.last, time <= last.time {
                // Real exports repeat or step back a timestamp now and then (NAB's exchange-2 and
                // machine_temperature do): points are scored in file order, and the lines are reported.
                if strictTime {
                    problem = "line \(number): timestamp \(fields[0]) is not after the previous row's \(last.raw)"
                    return
                }
                duplicates.append(number)
            }
            points.append(Point(raw: String(fields[0]), time: time, value: value))
        }
        if let problem { throw CLIError(problem) }
        if let first = duplicates.first {
            printError(
                "vigil \(command): \(VigilCore.Format.count(duplicates.count, "row")) \(duplicates.count == 1 ? "does" : "do") not come after the previous row's timestamp (first at line \(first)); kept in file order (--strict-time makes this an error)"
            )
        }
        guard !points.isEmpty else {
            throw CLIError("\(path) has no data rows under the header timestamp,value")
        }
        return points
    }
}

extension Substring {
    /// The text without leading and trailing spaces, tabs and carriage returns.
    func trimmingCharacters() -> String {
        String(
            self.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed().drop(while: {
                $0 == " " || $0 == "\t" || $0 == "\r"
            }).reversed()
        )
    }
}
