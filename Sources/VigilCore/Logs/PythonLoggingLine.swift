// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A line in the layout of Python's `logging.basicConfig()` with no format given, `LEVEL:logger:message`
/// (`ERROR:app.db:connection lost`): no time, no spaces between the fields.
enum PythonLoggingLine {
    /// The longest logger name read.
    static let maximumLogger = 200

    /// The line's level, logger and where its message starts, or nil when the line is not in this layout (an
    /// upper-case level word, a colon, a logger name with no space or colon, a colon).
    static func parse(_ line: Span<UInt8>) -> (severity: Severity, logger: Range<Int>, messageStart: Int)? {
        let count = line.count
        var index = 0
        while index < count && index < 10 && line[index] >= 0x41 && line[index] <= 0x5A { index += 1 }
        guard index >= 4, index < count, line[index] == UInt8(ascii: ":"),
            let severity = Severity(levelWord: line.extracting(0..<index))
        else { return nil }
        index += 1
        let loggerStart = index
        while index < count && index - loggerStart <= Self.maximumLogger && line[index] != UInt8(ascii: ":")
            && !ByteClass.isSpace(line[index])
        {
            index += 1
        }
        guard index > loggerStart, index < count, line[index] == UInt8(ascii: ":") else { return nil }
        return (severity, loggerStart..<index, index + 1)
    }
}
