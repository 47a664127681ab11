// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilIngest

@Suite struct CSVReaderTests {
    /// The cells of one line as text, as `withCells` finds them.
    private func cells(_ line: String) -> [String] {
        var storage: [Range<Int>] = []
        return Array(line.utf8).withUnsafeBufferPointer { bytes in
            CSVReader.withCells(of: bytes, &storage) { base, cells in
                cells.map { String(decoding: UnsafeBufferPointer(rebasing: base[$0]), as: UTF8.self) }
            }
        }
    }

    @Test func rowsUndoQuotingDoubledQuotesAndLineEnds() {
        let text = "time,\"a,b\",\"say \"\"hi\"\"\"\r\n1,2,\n"
        #expect(CSVReader.rows(Array(text.utf8)) == [["time", "a,b", "say \"hi\""], ["1", "2", ""]])
    }

    /// Plain lines split at every comma; quoted ones are unquoted first; both are trimmed of blanks.
    @Test(arguments: [
        ("1700000000, 1.5 ,\t2\r", ["1700000000", "1.5", "2"]),
        ("a,,b,", ["a", "", "b", ""]),
        ("", [""]),
        ("\"Time\",\"cpu{instance=\"\"db-1:9100\"\"}\",\" 3 \"", ["Time", "cpu{instance=\"db-1:9100\"}", "3"]),
        ("\"unclosed,1", ["unclosed,1"]),
        ("\"", [""]),
    ])
    func withCellsFindsTrimmedCells(_ line: String, _ expected: [String]) {
        #expect(self.cells(line) == expected)
    }

    @Test func aNumericTableCountsWhatItCannotRead() throws {
        let text = "time,a.cpu,b.mem\n1,0.5,\n2,x,3\n\n3,\"4\",5,6\n"
        let table = try CSVReader.numericTable(Array(text.utf8), path: "m.csv")
        #expect(table.header == ["time", "a.cpu", "b.mem"])
        #expect(table.times == [1, 2, 3])
        #expect(table.columns == [[0.5, nil, 4], [nil, 3, 5]])
        // "x" and the cell beyond the header.
        #expect(table.unreadable.count == 2)
        #expect(table.unreadable.first.map { [$0.line, $0.column] } == [3, 1])
    }

    @Test func aTimeThatIsNoNumberNamesItsLine() {
        #expect(throws: IngestError("m.csv line 3: time \"noon\" is not a number")) {
            try CSVReader.numericTable(Array("time,a.cpu\n1,1\nnoon,2\n".utf8), path: "m.csv")
        }
    }
}
