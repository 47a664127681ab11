// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// RFC 4180 CSV on bytes: quoted fields, doubled quotes, CRLF or LF.
public enum CSVReader {
    /// Cells that hold something other than a finite number (or more cells than the header names), read as
    /// missing: how many, and the line and column index of the first.
    public struct UnreadableCells: Sendable {
        /// How many cells.
        public var count = 0
        /// The line and column index of the first.
        public var first: (line: Int, column: Int)?

        mutating func note(line: Int, column: Int) {
            self.count += 1
            if self.first == nil { self.first = (line, column) }
        }
    }

    public typealias NumericTable = (
        header: [String], times: [Double], columns: [[Double?]], unreadable: UnreadableCells
    )

    /// A header and, under it, a first column of times and columns of numbers (nil where a cell is empty or not a
    /// finite number, which is counted). Cells are read straight from the bytes; a line holding a quote goes
    /// through ``rows(_:)``.
    public static func numericTable(_ bytes: [UInt8], path: String) throws -> NumericTable {
        try bytes.withUnsafeBufferPointer { buffer in
            var lineEnd = buffer.firstIndex(of: 0x0A) ?? buffer.count
            let header = Self.rows(Array(buffer[..<lineEnd])).first ?? []
            let width = max(header.count - 1, 0)
            var times: [Double] = []
            var columns = [[Double?]](repeating: [], count: width)
            var unreadable = UnreadableCells()
            var lineNumber = 1
            var start = lineEnd + 1
            while start < buffer.count {
                lineNumber += 1
                lineEnd = start
                while lineEnd < buffer.count && buffer[lineEnd] != 0x0A { lineEnd += 1 }
                var end = lineEnd
                if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                defer { start = lineEnd + 1 }
                guard end > start else { continue }
                let line = UnsafeBufferPointer(rebasing: buffer[start..<end])
                if line.contains(UInt8(ascii: "\"")) {
                    // Rare: quoted cells take the general path.
                    let row = Self.rows(Array(line)).first ?? []
                    let time = row.first.flatMap { Double($0) }
                    let numbers = row.dropFirst().enumerated().map { index, cell -> Double? in
                        guard !cell.isEmpty else { return nil }
                        guard let number = Double(cell), number.isFinite, index < width else {
                            unreadable.note(line: lineNumber, column: index + 1)
                            return nil
                        }
                        return number
                    }
                    try Self.append(
                        numbers,
                        time: time,
                        raw: row.first ?? "",
                        to: &times,
                        &columns,
                        path: path,
                        line: lineNumber
                    )
                    continue
                }
                // Each cell straight into its column: no array of cells or of numbers per row.
                var column = -1
                var cellStart = 0
                for index in 0...line.count where index == line.count || line[index] == UInt8(ascii: ",") {
                    let cell = UnsafeBufferPointer(rebasing: line[cellStart..<index])
                    cellStart = index + 1
                    defer { column += 1 }
                    guard column >= 0 else {
                        guard let time = DecimalNumber.value(cell) else {
                            let raw = String(decoding: cell, as: UTF8.self)
                            throw IngestError("\(path) line \(lineNumber): time \"\(raw.prefix(40))\" is not a number")
                        }
                        times.append(time)
                        continue
                    }
                    if cell.isEmpty {
                        if column < width { columns[column].append(nil) }
                    } else if column < width, let number = DecimalNumber.value(cell), number.isFinite {
                        columns[column].append(number)
                    } else {
                        unreadable.note(line: lineNumber, column: column + 1)
                        if column < width { columns[column].append(nil) }
                    }
                }
                // Cells missing at the end are empty.
                for missing in max(column, 0)..<max(width, column) { columns[missing].append(nil) }
            }
            return (header, times, columns, unreadable)
        }
    }

    /// Adds one row of `numericTable`: missing cells at the end are empty, extra ones are dropped.
    private static func append(
        _ numbers: [Double?],
        time: Double?,
        raw: String,
        to times: inout [Double],
        _ columns: inout [[Double?]],
        path: String,
        line: Int
    ) throws {
        guard let time else {
            throw IngestError("\(path) line \(line): time \"\(raw.prefix(40))\" is not a number")
        }
        times.append(time)
        for column in columns.indices { columns[column].append(column < numbers.count ? numbers[column] : nil) }
    }

    /// Finds the cells of one line as byte ranges, trimmed of spaces, tabs and carriage returns, into `cells`,
    /// and calls `body` with the bytes they index (the line itself, or, when it holds a quote, its cells unquoted
    /// (RFC 4180) into a buffer) and the cells. `cells` is the caller's storage, reused from line to line.
    public static func withCells<Result>(
        of line: UnsafeBufferPointer<UInt8>,
        _ cells: inout [Range<Int>],
        _ body: (UnsafeBufferPointer<UInt8>, [Range<Int>]) throws -> Result
    ) rethrows -> Result {
        cells.removeAll(keepingCapacity: true)
        guard line.contains(UInt8(ascii: "\"")) else {
            var start = 0
            for index in 0...line.count where index == line.count || line[index] == UInt8(ascii: ",") {
                cells.append(Self.trimmed(line, start..<index))
                start = index + 1
            }
            return try body(line, cells)
        }
        // Rare: quoted cells, unquoted into one buffer.
        var unquoted: [UInt8] = []
        for cell in Self.rows(Array(line)).first ?? [] {
            let start = unquoted.count
            unquoted.append(contentsOf: cell.utf8)
            cells.append(unquoted.withUnsafeBufferPointer { Self.trimmed($0, start..<unquoted.count) })
        }
        // A line of one open quote holds one empty cell, as an empty line does.
        if cells.isEmpty { cells.append(0..<0) }
        let found = cells
        return try unquoted.withUnsafeBufferPointer { try body($0, found) }
    }

    /// `range` of `bytes` without leading and trailing spaces, tabs and carriage returns.
    public static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        func blank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper && blank(bytes[lower]) { lower += 1 }
        while upper > lower && blank(bytes[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    /// The rows of `bytes`, each a list of its cells with quoting undone.
    public static func rows(_ bytes: [UInt8]) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") && field.isEmpty {
                quoted = true
            } else if byte == UInt8(ascii: ",") {
                row.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
            } else if byte == 0x0A {
                if field.last == 0x0D { field.removeLast() }
                row.append(String(decoding: field, as: UTF8.self))
                rows.append(row)
                row = []
                field.removeAll(keepingCapacity: true)
            } else {
                field.append(byte)
            }
            index += 1
        }
        if !field.isEmpty || !row.isEmpty {
            if field.last == 0x0D { field.removeLast() }
            row.append(String(decoding: field, as: UTF8.self))
            rows.append(row)
        }
        return rows
    }
}
