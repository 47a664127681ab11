// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A parsed JSON document. Numbers keep their text so 64-bit integers and nanosecond timestamps survive.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// The value of the first member named `key`, if this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The string, if this is one.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The elements, if this is an array.
    public var array: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The members, if this is an object.
    public var members: [(key: String, value: JSONValue)]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The number as a Double, if this is a number (or a string holding one).
    public var double: Double? {
        switch self {
        case .number(let text), .string(let text): Double(text)
        default: nil
        }
    }

    /// The number as an Int64, if this is an integral number (or a string holding one).
    public var int64: Int64? {
        switch self {
        case .number(let text), .string(let text): Int64(text)
        default: nil
        }
    }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }
}

/// Why a document was rejected, with the byte offset, for a 400 answer a sender can act on.
public struct IngestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { self.message }
}

/// A strict RFC 8259 JSON parser over bytes, with a depth bound so hostile input cannot exhaust the stack.
public struct JSONParser {
    /// The deepest nesting accepted.
    public static let maximumDepth = 64

    /// Parses one document; trailing non-space bytes are an error.
    public static func parse(_ bytes: [UInt8]) throws(IngestError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(IngestError) in
            var parser = Cursor(buffer: buffer)
            parser.skipSpace()
            let value = try parser.value(depth: 0)
            parser.skipSpace()
            guard parser.index == buffer.count else { throw parser.error("unexpected bytes after the JSON document") }
            return value
        }
    }

    struct Cursor {
        let buffer: UnsafeBufferPointer<UInt8>
        var index = 0

        func error(_ text: String) -> IngestError {
            IngestError("invalid JSON at byte \(self.index): \(text)")
        }

        mutating func skipSpace() {
            while self.index < self.buffer.count {
                switch self.buffer[self.index] {
                case 0x20, 0x0A, 0x0D, 0x09: self.index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(IngestError) -> JSONValue {
            guard depth < JSONParser.maximumDepth else { throw self.error("nested deeper than 64 levels") }
            guard self.index < self.buffer.count else { throw self.error("unexpected end of input") }
            switch self.buffer[self.index] {
            case UInt8(ascii: "{"): return try self.object(depth: depth)
            case UInt8(ascii: "["): return try self.array(depth: depth)
            case UInt8(ascii: "\""): return .string(try self.string())
            case UInt8(ascii: "t"):
                try self.literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try self.literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try self.literal("null")
                return .null
            default: return .number(try self.number())
            }
        }

        mutating func literal(_ word: StaticString) throws(IngestError) {
            let count = word.utf8CodeUnitCount
            guard self.index + count <= self.buffer.count else { throw self.error("unexpected end of input") }
            for offset in 0..<count where self.buffer[self.index + offset] != word.utf8Start[offset] {
                throw self.error("expected \(word)")
            }
            self.index += count
        }

        mutating func number() throws(IngestError) -> String {
            let start = self.index
            if self.index < self.buffer.count && self.buffer[self.index] == UInt8(ascii: "-") { self.index += 1 }
            var digits = 0
            while self.index < self.buffer.count {
                let byte = self.buffer[self.index]
                if byte >= 0x30 && byte <= 0x39 {
                    digits += 1
                } else if byte != UInt8(ascii: ".") && byte != UInt8(ascii: "e") && byte != UInt8(ascii: "E")
                    && byte != UInt8(ascii: "+") && byte != UInt8(ascii: "-")
                {
                    break
                }
                self.index += 1
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: self.buffer[start..<self.index]), as: UTF8.self)
            guard digits > 0, Double(text) != nil else {
                self.index = start
                throw self.error("expected a value")
            }
            return text
        }

        mutating func string() throws(IngestError) -> String {
            self.index += 1  // opening quote
            let start = self.index
            // Fast path: no escapes.
            while self.index < self.buffer.count {
                let byte = self.buffer[self.index]
                if byte == UInt8(ascii: "\"") {
                    let text = UnsafeBufferPointer(rebasing: self.buffer[start..<self.index])
                    self.index += 1
                    return String(decoding: text, as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw self.error("control character in a string") }
                self.index += 1
            }
            var bytes = Array(UnsafeBufferPointer(rebasing: self.buffer[start..<self.index]))
            while self.index < self.buffer.count {
                let byte = self.buffer[self.index]
                self.index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: bytes, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard self.index < self.buffer.count else { break }
                    let escape = self.buffer[self.index]
                    self.index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escape)
                    case UInt8(ascii: "b"): bytes.append(0x08)
                    case UInt8(ascii: "f"): bytes.append(0x0C)
                    case UInt8(ascii: "n"): bytes.append(0x0A)
                    case UInt8(ascii: "r"): bytes.append(0x0D)
                    case UInt8(ascii: "t"): bytes.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try self.hex4()
                        if scalar >= 0xD800 && scalar < 0xDC00, self.index + 1 < self.buffer.count,
                            self.buffer[self.index] == UInt8(ascii: "\\"),
                            self.buffer[self.index + 1] == UInt8(ascii: "u")
                        {
                            self.index += 2
                            let low = try self.hex4()
                            if low >= 0xDC00 && low < 0xE000 {
                                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            }
                        }
                        let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                        bytes.append(contentsOf: String(Character(character)).utf8)
                    default:
                        throw self.error("unknown escape \\\(Character(Unicode.Scalar(escape)))")
                    }
                default:
                    if byte < 0x20 { throw self.error("control character in a string") }
                    bytes.append(byte)
                }
            }
            throw self.error("unterminated string")
        }

        mutating func hex4() throws(IngestError) -> UInt32 {
            guard self.index + 4 <= self.buffer.count else { throw self.error("short \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = self.buffer[self.index]
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                default: throw self.error("bad hex digit in \\u escape")
                }
                value = value << 4 | digit
                self.index += 1
            }
            return value
        }

        mutating func array(depth: Int) throws(IngestError) -> JSONValue {
            self.index += 1
            var elements: [JSONValue] = []
            self.skipSpace()
            if self.index < self.buffer.count && self.buffer[self.index] == UInt8(ascii: "]") {
                self.index += 1
                return .array(elements)
            }
            while true {
                self.skipSpace()
                elements.append(try self.value(depth: depth + 1))
                self.skipSpace()
                guard self.index < self.buffer.count else { throw self.error("unterminated array") }
                let byte = self.buffer[self.index]
                self.index += 1
                if byte == UInt8(ascii: "]") { return .array(elements) }
                guard byte == UInt8(ascii: ",") else {
                    self.index -= 1
                    throw self.error("expected , or ] in an array")
                }
            }
        }

        mutating func object(depth: Int) throws(IngestError) -> JSONValue {
            self.index += 1
            var members: [(key: String, value: JSONValue)] = []
            self.skipSpace()
            if self.index < self.buffer.count && self.buffer[self.index] == UInt8(ascii: "}") {
                self.index += 1
                return .object(members)
            }
            while true {
                self.skipSpace()
                guard self.index < self.buffer.count, self.buffer[self.index] == UInt8(ascii: "\"") else {
                    throw self.error("expected a member name")
                }
                let key = try self.string()
                self.skipSpace()
                guard self.index < self.buffer.count, self.buffer[self.index] == UInt8(ascii: ":") else {
                    throw self.error("expected : after a member name")
                }
                self.index += 1
                self.skipSpace()
                members.append((key, try self.value(depth: depth + 1)))
                self.skipSpace()
                guard self.index < self.buffer.count else { throw self.error("unterminated object") }
                let byte = self.buffer[self.index]
                self.index += 1
                if byte == UInt8(ascii: "}") { return .object(members) }
                guard byte == UInt8(ascii: ",") else {
                    self.index -= 1
                    throw self.error("expected , or } in an object")
                }
            }
        }
    }
}
