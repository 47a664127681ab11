// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import VigilCore

/// A metric series read from a two-column CSV file, time then value, as `vigil detect` and `vigil forecast` take
/// it: `timestamp,value` as NAB writes it, or an export from Grafana or Prometheus (`"Time","cpu"`, quoted cells,
/// `NaN` or empty where the series had no sample).
enum SeriesFile {
    /// One row.
    struct Point {
        /// The timestamp as written.
        var raw: String
        var time: Timestamp
        /// Nil where the row has no value (an empty cell, `NaN`, `null`): a gap, not a zero.
        var value: Double?
    }

    /// Names the first column may have.
    static let timeColumns: Set<String> = ["timestamp", "time", "ts", "date", "datetime", "@timestamp"]

    /// What the header must look like, for error messages.
    static let headerRule =
        "expected the header timestamp,value (the first column may also be called time, ts, date or datetime, "
        + "the second may carry the series' name)"

    /// Cells that mean "no value here".
    private static let missing: Set<String> = ["", "nan", "null", "none", "na", "n/a"]

    /// Reads every row; a bad row is an error naming its line. A file without a header starts with data (a
    /// timestamp and a number). Timestamps that do not increase are kept in file order and reported on standard
    /// error, or rejected with `strictTime`; rows without a value are kept as gaps and counted there too.
    static func read(_ path: String, command: String, strictTime: Bool) throws -> [Point] {
        var reader = try LineReader(path: path)
        var points: [Point] = []
        var problem: String?
        var duplicates: [Int] = []
        var gaps: [Int] = []
        try reader.forEachLine { line, number, _ in
            guard problem == nil else { return }
            let text = line.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
            if text.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
            let fields = Self.fields(text)
            if number == 1 {
                let header = fields.map { $0.lowercased() }
                if header.count >= 2 && Self.timeColumns.contains(header[0]) && !header[1].isEmpty { return }
                // No header: the file starts with data.
                let isData =
                    fields.count >= 2 && TimestampParser.parse(Array(fields[0].utf8).span) != nil
                    && Double(fields[1]) != nil
                guard isData else {
                    problem = "line 1: \(Self.headerRule), found \"\(text.prefix(80))\""
                    return
                }
            }
            guard fields.count >= 2 else {
                problem = "line \(number): expected timestamp,value, found \"\(text.prefix(80))\""
                return
            }
            guard let time = TimestampParser.parse(Array(fields[0].utf8).span) else {
                problem = "line \(number): \"\(fields[0].prefix(40))\" is not a timestamp"
                return
            }
            var value: Double?
            if Self.missing.contains(fields[1].lowercased()) {
                gaps.append(number)
            } else {
                guard let parsed = Double(fields[1]), parsed.isFinite else {
                    problem = "line \(number): \"\(fields[1].prefix(40))\" is not a number"
                    return
                }
                value = parsed
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
            points.append(Point(raw: fields[0], time: time, value: value))
        }
        if let problem { throw CLIError(problem) }
        if let first = duplicates.first {
            printError(
                "vigil \(command): \(VigilCore.Format.count(duplicates.count, "row")) \(duplicates.count == 1 ? "does" : "do") not come after the previous row's timestamp (first at line \(first)); kept in file order (--strict-time makes this an error)"
            )
        }
        if let first = gaps.first {
            printError(
                "vigil \(command): \(VigilCore.Format.count(gaps.count, "row")) \(gaps.count == 1 ? "has" : "have") no value (empty, NaN or null; first at line \(first)); taken as \(gaps.count == 1 ? "a gap" : "gaps")"
            )
        }
        guard points.contains(where: { $0.value != nil }) else {
            throw CLIError("\(path) has no data rows with a value under the header timestamp,value")
        }
        return points
    }

    /// The first two cells of a line, trimmed, with RFC 4180 quoting undone (a line holding no quote is split
    /// at its commas directly).
    static func fields(_ line: String) -> [String] {
        if line.utf8.contains(UInt8(ascii: "\"")) {
            return (CSVReader.rows(Array(line.utf8)).first ?? []).prefix(2).map { Substring($0).trimmingCharacters() }
        }
        return line.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false).prefix(2).map {
            $0.trimmingCharacters()
        }
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
