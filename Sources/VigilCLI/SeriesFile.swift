// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import VigilCore
import VigilIngest

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

    /// Words that mean "no value here" (as does an empty cell).
    private static let missing: Set<String> = ["nan", "null", "none", "na", "n/a"]

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
        // The cells of the line at hand, as byte ranges (reused from line to line).
        var cells: [Range<Int>] = []

        /// One line, its cells found: the header, or a row handed to `body`.
        func take(_ bytes: UnsafeBufferPointer<UInt8>, _ cells: [Range<Int>], _ number: Int) throws {
            func text(_ cell: Range<Int>) -> String { String(decoding: bytes[cell], as: UTF8.self) }
            func time(_ cell: Range<Int>) -> Timestamp? {
                TimestampParser.parse(UnsafeBufferPointer(rebasing: bytes[cell]).span)
            }
            func decimal(_ cell: Range<Int>) -> Double? {
                DecimalNumber.value(UnsafeBufferPointer(rebasing: bytes[cell]))
            }
            if cells.count == 1 && cells[0].isEmpty { return }
            if names.isEmpty {
                if cells.count >= 2 && Self.timeColumns.contains(text(cells[0]).lowercased()) && !cells[1].isEmpty {
                    names = cells.dropFirst().map(text)
                    return
                }
                // No header: the file starts with data.
                guard cells.count >= 2 && time(cells[0]) != nil && decimal(cells[1]) != nil else {
                    throw CLIError(
                        "line \(number): \(Self.headerRule), found \"\(String(decoding: bytes, as: UTF8.self).prefix(80))\""
                    )
                }
                names = cells.count == 2 ? ["value"] : (1..<cells.count).map { "value\($0)" }
            }
            guard cells.count >= 2 else {
                throw CLIError(
                    "line \(number): expected a timestamp and a value, found \"\(String(decoding: bytes, as: UTF8.self).prefix(80))\""
                )
            }
            guard cells.count <= names.count + 1 else {
                throw CLIError("line \(number): \(cells.count) cells, but the header names \(names.count + 1)")
            }
            guard let rowTime = time(cells[0]) else {
                throw CLIError("line \(number): \"\(text(cells[0]).prefix(40))\" is not a timestamp")
            }
            var values = [Double?](repeating: nil, count: names.count)
            for column in names.indices {
                let cell = column + 1 < cells.count ? cells[column + 1] : 0..<0
                if Self.isMissing(bytes[cell]) {
                    gaps += 1
                    if firstGap == nil { firstGap = number }
                    continue
                }
                guard let parsed = decimal(cell), parsed.isFinite else {
                    throw CLIError("line \(number): \"\(text(cell).prefix(40))\" is not a number")
                }
                values[column] = parsed
                anyValue = true
            }
            if let last, rowTime <= last.time {
                // Real exports repeat or step back a timestamp now and then (NAB's exchange-2 and
                // machine_temperature do): points are scored in file order, and the lines are reported.
                if strictTime {
                    throw CLIError(
                        "line \(number): timestamp \(text(cells[0])) is not after the previous row's \(last.raw)"
                    )
                }
                duplicates.append(number)
            }
            let row = Row(raw: text(cells[0]), time: rowTime, values: values)
            last = row
            try body(names, row)
        }

        if try reader.firstVisibleByte() == UInt8(ascii: "{") {
            // A Prometheus HTTP API answer (`curl …/api/v1/query_range?… | vigil detect -`): one series per result.
            let answer = try Self.prometheusAnswer(try reader.readAll(limit: 1 << 30), path: path)
            for row in answer.rows { try body(answer.names, row) }
            return
        }
        try reader.forEachLine { line, number, _ in
            try line.withUnsafeBufferPointer { line in
                try CSVReader.withCells(of: line, &cells) { bytes, cells in try take(bytes, cells, number) }
            }
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

    /// The series of a Prometheus `query_range` (or `query`) answer as a file of them: one column per series,
    /// named as Prometheus shows it (`up{instance="a:9100",job="node"}`), one row per time any of them has.
    static func prometheusAnswer(_ body: [UInt8], path: String) throws -> SeriesFile {
        let points: [MetricPoint]
        do {
            points = try PrometheusQuery.decode(body, name: "value")
        } catch {
            throw CLIError("\(path): \(error.message)")
        }
        var names: [String] = []
        var column: [SeriesKey: Int] = [:]
        var cells: [Int64: [(Int, Double)]] = [:]
        for point in points {
            let index: Int
            if let known = column[point.series] {
                index = known
            } else {
                index = names.count
                column[point.series] = index
                names.append(point.series.text)
            }
            cells[point.time.nanoseconds, default: []].append((index, point.value))
        }
        guard !names.isEmpty else { throw CLIError("\(path): the Prometheus answer holds no samples") }
        let rows = cells.keys.sorted().map { nanoseconds in
            var values = [Double?](repeating: nil, count: names.count)
            for (index, value) in cells[nanoseconds]! { values[index] = value }
            let time = Timestamp(nanoseconds: nanoseconds)
            return Row(raw: time.iso8601, time: time, values: values)
        }
        return SeriesFile(names: names, rows: rows)
    }

    /// Whether a cell means "no value here": empty, or (in any case) `NaN`, `null`, `none`, `NA` or `n/a`.
    static func isMissing(_ cell: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard let first = cell.first else { return true }
        // Numbers start with a digit, a sign or a point: only a short word that starts with a letter is read.
        guard cell.count <= 4, (0x61...0x7A).contains(first | 0x20) else { return false }
        // ASCII letters to lower case (other bytes may change too, but match no word then).
        let word = String(decoding: cell.map { $0 | 0x20 }, as: UTF8.self)
        return Self.missing.contains(word)
    }
}
