// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Parses RFC 5424 syslog lines: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG`.
public enum Syslog5424 {
    /// Returns the record of a 5424 line, or `nil` when the line is not one.
    public static func parse(_ line: Span<UInt8>, lineNumber: Int) -> LogRecord? {
        var index = 0
        let count = line.count
        guard count > 4, line[0] == UInt8(ascii: "<") else { return nil }
        index = 1
        var priority = 0
        while index < count && ByteClass.isDigit(line[index]) && index < 5 {
            priority = priority * 10 + Int(line[index] - 0x30)
            index += 1
        }
        guard index > 1, index < count, line[index] == UInt8(ascii: ">"), priority <= 191 else { return nil }
        index += 1
        guard index + 1 < count, ByteClass.isDigit(line[index]), line[index + 1] == 0x20 else { return nil }
        index += 2
        var headers: [String] = []
        for _ in 0..<5 {
            let start = index
            while index < count && line[index] != 0x20 { index += 1 }
            guard index > start else { return nil }
            headers.append(line.string(from: start, to: index))
            if index < count { index += 1 }
        }
        var fields: [String: String] = [:]
        let names = ["host", "app", "procid", "msgid"]
        for (name, value) in zip(names, headers.dropFirst()) where value != "-" { fields[name] = value }
        // Structured data: `-` or one or more `[id k="v" ...]` elements.
        let sdStart = index
        if index < count && line[index] == UInt8(ascii: "-") {
            index += 1
        } else {
            while index < count && line[index] == UInt8(ascii: "[") {
                var inQuotes = false
                while index < count {
                    let byte = line[index]
                    index += 1
                    if byte == UInt8(ascii: "\\") {
                        index += 1
                    } else if byte == UInt8(ascii: "\"") {
                        inQuotes.toggle()
                    } else if byte == UInt8(ascii: "]") && !inQuotes {
                        break
                    }
                }
            }
            if index > sdStart { fields["structured_data"] = line.string(from: sdStart, to: min(index, count)) }
        }
        if index < count && line[index] == 0x20 { index += 1 }
        // Skip a UTF-8 byte order mark before the message.
        if index + 2 < count && line[index] == 0xEF && line[index + 1] == 0xBB && line[index + 2] == 0xBF { index += 3 }
        let timeBytes = Array(headers[0].utf8)
        return LogRecord(
            timestamp: headers[0] == "-" ? nil : TimestampParser.parse(timeBytes.span),
            severity: Severity(syslogCode: priority & 7),
            fields: fields,
            message: index < count ? line.string(from: index, to: count) : "",
            lineNumber: lineNumber
        )
    }

}
