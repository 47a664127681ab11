// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import VigilCore

/// Metric series read from a CSV file, time then values, as `vigil detect` and `vigil forecast` take it:
/// `timestamp,value` as NAB writes it, or an export from Grafana or Prometheus (`"Time","cpu","mem"`, quoted cells,
/// `NaN` or empty where a series had no sample). Each column after the time is one series.
struct SeriesFile {
    /// One row.
    struct Row {
        /// The timestamp as written.
        var raw: String
        var time: Timestamp
        /// One per series; nil where the row has no value (an empty cell, `NaN`, `null`): a gap, not a zero.
        var values: [Double?]
    }

    /// The series' names: the header's cells after the time (`value` when the file has no header).
    var names: [String]
    var rows: [Row]

    /// The rows of one series, gaps included.
    func series(_ index: Int) -> [(raw: String, time: Timestamp, value: Double?)] {
        self.rows.map { ($0.raw, $0.time, $0.values[index]) }
    }

    /// Names the first column may have.
    static let timeColumns: Set<String> = ["timestamp", "time", "ts", "date", "datetime", "@timestamp"]

    /// What the header must look like, for error messages.
    static let headerRule =
        "expected the header timestamp,value (the first column may also be called time, ts, date or datetime, "
        + "the others carry the series' names)"

    /// Cells that mean "no value here".
    private static let missing: Set<String> = ["", "nan", "null", "none", "na", "n/a"]

    /// Reads every row; a bad row is an error naming its line. A file without a header starts with data (a
    /// timestamp and numbers). Timestamps that do not increase are kept in file order and reported on standard
    /// error, or rejected with `strictTime`; cells without a value are kept as gaps and counted there too, with
    /// what the command does with them (`gaps`).
    static func read(_ path: String, command: String, strictTime: Bool, gaps: String) throws -> SeriesFile {
        var file = SeriesFile(names: [], rows: [])
        try Self.forEachRow(path, command: command, strictTime: strictTime, gaps: gaps) { names, row in
            file.names = names
            file.rows.append(row)
        }
        return file
    }

    /// Reads the rows one at a time, handing each over with the series' names as soon as it is read (from a
    /// pipe, as it arrives), under the rules of ``read(_:command:strictTime:gaps:)``. A bad row ends the reading with
    /// an error naming its line, after the rows before it were handed over.
    static func forEachRow(
        _ path: String,
        command: String,
        strictTime: Bool,
        gaps treatment: String,
        _ body: ([String], Row) throws -> Void
    ) throws {
        var reader = try LineReader(path: path)
        var names: [String] = []
        var last: Row?
        var duplicates: [Int] = []
        var gaps = 0
        var firstGap: Int?
        var anyValue = false
        try reader.forEachLine { line, number, _ in
            let text = line.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
            if text.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
            let fields = Self.fields(text)
            if number == 1 {
                let header = fields.map { $0.lowercased() }
                if header.count >= 2 && Self.timeColumns.contains(header[0]) && !header[1].isEmpty {
                    names = Array(fields.dropFirst())
                    return
                }
                // No header: the file starts with data.
                let isData =
                    fields.count >= 2 && TimestampParser.parse(Array(fields[0].utf8).span) != nil
                    && Double(fields[1]) != nil
                guard isData else {
                    throw CLIError("line 1: \(Self.headerRule), found \"\(text.prefix(80))\"")
                }
                names = fields.count == 2 ? ["value"] : (1..<fields.count).map { "value\($0)" }
            }
            guard fields.count >= 2 else {
                throw CLIError("line \(number): expected a timestamp and a value, found \"\(text.prefix(80))\"")
            }
            guard fields.count <= names.count + 1 else {
                throw CLIError("line \(number): \(fields.count) cells, but the header names \(names.count + 1)")
            }
            guard let time = TimestampParser.parse(Array(fields[0].utf8).span) else {
                throw CLIError("line \(number): \"\(fields[0].prefix(40))\" is not a timestamp")
            }
            var values = [Double?](repeating: nil, count: names.count)
            for column in names.indices {
                let cell = column + 1 < fields.count ? fields[column + 1] : ""
                if Self.missing.contains(cell.lowercased()) {
                    gaps += 1
                    if firstGap == nil { firstGap = number }
                    continue
                }
                guard let parsed = Double(cell), parsed.isFinite else {
                    throw CLIError("line \(number): \"\(cell.prefix(40))\" is not a number")
                }
                values[column] = parsed
                anyValue = true
            }
            if let last, time <= last.time {
                // Real exports repeat or step back a timestamp now and then (NAB's exchange-2 and
                // machine_temperature do): points are scored in file order, and the lines are reported.
                if strictTime {
                    throw CLIError("line \(number): timestamp \(fields[0]) is not after the previous row's \(last.raw)")
                }
                duplicates.append(number)
            }
            let row = Row(raw: fields[0], time: time, values: values)
            last = row
            try body(names, row)
        }
        if let first = duplicates.first {
            printError(
                "vigil \(command): \(VigilCore.Format.count(duplicates.count, "row")) \(duplicates.count == 1 ? "does" : "do") not come after the previous row's timestamp (first at line \(first)); kept in file order (--strict-time makes this an error)"
            )
        }
        if let firstGap {
            printError(
                "vigil \(command): \(VigilCore.Format.count(gaps, "cell")) \(gaps == 1 ? "has" : "have") no value (empty, NaN or null; first at line \(firstGap)): \(treatment)"
            )
        }
        guard anyValue else {
            throw CLIError("\(path) has no data rows with a value under the header timestamp,value")
        }
    }

    /// The cells of a line, trimmed, with RFC 4180 quoting undone (a line holding no quote is split at its
    /// commas directly).
    static func fields(_ line: String) -> [String] {
        if line.utf8.contains(UInt8(ascii: "\"")) {
            return (CSVReader.rows(Array(line.utf8)).first ?? []).map { Substring($0).trimmingCharacters() }
        }
        return line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters() }
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
