// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Reads the top-level key/value pairs of a JSON-object line or a logfmt line.
///
/// Values come back as text: JSON strings are unescaped, numbers and literals kept as written, nested objects
/// and arrays kept as their raw JSON. Malformed input yields `nil`, never a crash.
enum KeyValueLine {
    /// The pairs of a one-line JSON object, or `nil` when the line is not one.
    static func json(_ line: Span<UInt8>) -> [(key: String, value: String)]? {
        var index = 0
        let count = line.count
        skipSpaces(line, &index)
        guard index < count, line[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var pairs: [(key: String, value: String)] = []
        while true {
            skipSpaces(line, &index)
            guard index < count else { return nil }
            if line[index] == UInt8(ascii: "}") { return pairs }
            if line[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard let key = jsonString(line, &index) else { return nil }
            skipSpaces(line, &index)
            guard index < count, line[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipSpaces(line, &index)
            guard index < count else { return nil }
            let value: String
            switch line[index] {
            case UInt8(ascii: "\""):
                guard let text = jsonString(line, &index) else { return nil }
                value = text
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let start = index
                guard skipNested(line, &index) else { return nil }
                value = line.string(from: start, to: index)
            default:
                let start = index
                while index < count && line[index] != UInt8(ascii: ",") && line[index] != UInt8(ascii: "}")
                    && !ByteClass.isSpace(line[index])
                {
                    index += 1
                }
                guard index > start else { return nil }
                value = line.string(from: start, to: index)
            }
            pairs.append((key, value))
            guard pairs.count <= 4096 else { return nil }
        }
    }

    /// The pairs of a logfmt line (`level=info msg="started" port=8080`), or `nil` when fewer than two tokens are
    /// pairs or the first token is not one.
    static func logfmt(_ line: Span<UInt8>) -> [(key: String, value: String)]? {
        var pairs: [(key: String, value: String)] = []
        var index = 0
        let count = line.count
        var strayTokens = 0
        while index < count {
            skipSpaces(line, &index)
            guard index < count else { break }
            let keyStart = index
            while index < count && line[index] != UInt8(ascii: "=") && !ByteClass.isSpace(line[index]) { index += 1 }
            let keyEnd = index
            guard index < count, line[index] == UInt8(ascii: "="), keyEnd > keyStart else {
                if pairs.isEmpty { return nil }
                strayTokens += 1
                while index < count && !ByteClass.isSpace(line[index]) { index += 1 }
                continue
            }
            index += 1
            let value: String
            if index < count && line[index] == UInt8(ascii: "\"") {
                guard let quoted = jsonString(line, &index) else { return nil }
                value = quoted
            } else {
                let start = index
                while index < count && !ByteClass.isSpace(line[index]) { index += 1 }
                value = line.string(from: start, to: index)
            }
            pairs.append((line.string(from: keyStart, to: keyEnd), value))
        }
        return pairs.count >= 2 && strayTokens <= pairs.count / 2 ? pairs : nil
    }

    // MARK: - Scanning helpers

    private static func skipSpaces(_ line: Span<UInt8>, _ index: inout Int) {
        while index < line.count && ByteClass.isSpace(line[index]) { index += 1 }
    }

    /// Reads a JSON string starting at the opening quote, unescaping it.
    private static func jsonString(_ line: Span<UInt8>, _ index: inout Int) -> String? {
        guard index < line.count, line[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        var bytes: [UInt8] = []
        while index < line.count {
            let byte = line[index]
            index += 1
            if byte == UInt8(ascii: "\"") { return String(decoding: bytes, as: UTF8.self) }
            guard byte == UInt8(ascii: "\\") else {
                bytes.append(byte)
                continue
            }
            guard index < line.count else { return nil }
            let escaped = line[index]
            index += 1
            switch escaped {
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "b"), UInt8(ascii: "f"): bytes.append(0x20)
            case UInt8(ascii: "u"):
                guard index + 4 <= line.count else { return nil }
                var code: UInt32 = 0
                for _ in 0..<4 {
                    let digit = line[index]
                    index += 1
                    guard ByteClass.isHexDigit(digit) else { return nil }
                    code = code << 4 | UInt32(ByteClass.isDigit(digit) ? digit - 0x30 : (digit | 0x20) - 0x61 + 10)
                }
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: bytes.append(escaped)
            }
        }
        return nil
    }

    /// Skips a nested object or array, honouring strings; `false` when it never closes.
    private static func skipNested(_ line: Span<UInt8>, _ index: inout Int) -> Bool {
        var depth = 0
        var inString = false
        while index < line.count {
            let byte = line[index]
            index += 1
            if inString {
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                depth += 1
                guard depth <= 64 else { return false }
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { return true }
            }
        }
        return false
    }
}
