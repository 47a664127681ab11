// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import VigilCore

/// Reads chosen members of a flat JSON object straight from its bytes, without building a tree: the fast path
/// for JSON-lines files of a million records (spans, log lines), where `JSONParser` would allocate a string for
/// every key and number. The whole object is still checked to be valid JSON.
public enum JSONFields {
    /// A member to read, and how to read a string in it.
    public struct Key: ExpressibleByStringLiteral, Sendable {
        /// How a string value is read.
        public enum Mode: Sendable {
            /// Decoded into a `String`.
            case text
            /// Decoded into UTF-8 bytes: text that is parsed further, never shown whole.
            case bytes
            /// Only hashed (``VigilCore/SignatureHash`` of its UTF-8 bytes): IDs that are matched, never shown.
            case fingerprint
            /// Decoded once per distinct value and shared after (``StringCache``): names that repeat on every
            /// line, such as a service.
            case interned
        }

        public let name: StaticString
        public var mode: Mode
        /// The name's length and its first eight bytes as one word (zero past the end), so most member names are
        /// told apart by two comparisons.
        let length: Int
        let head: UInt64

        /// A member read as text.
        public init(stringLiteral name: StaticString) {
            self.name = name
            self.mode = .text
            self.length = name.utf8CodeUnitCount
            self.head = Self.head(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        }

        /// The first eight bytes of `name` as a little-endian word, zero past its end.
        @inline(__always)
        static func head(_ name: UnsafeBufferPointer<UInt8>) -> UInt64 {
            var word: UInt64 = 0
            for index in 0..<min(8, name.count) { word |= UInt64(name[index]) << (8 * UInt64(index)) }
            return word
        }

        /// Whether `name` is this key's name.
        @inline(__always)
        func matches(_ name: UnsafeBufferPointer<UInt8>, head: UInt64) -> Bool {
            guard name.count == self.length, head == self.head else { return false }
            return self.length <= 8 || (8..<self.length).allSatisfy { self.name.utf8Start[$0] == name[$0] }
        }

        /// A member whose string is decoded into bytes.
        public static func bytes(_ name: StaticString) -> Key {
            var key = Key(stringLiteral: name)
            key.mode = .bytes
            return key
        }

        /// A member whose string is only hashed.
        public static func fingerprint(_ name: StaticString) -> Key {
            var key = Key(stringLiteral: name)
            key.mode = .fingerprint
            return key
        }

        /// A member whose string is shared between the lines that repeat it.
        public static func interned(_ name: StaticString) -> Key {
            var key = Key(stringLiteral: name)
            key.mode = .interned
            return key
        }
    }

    /// The strings of ``Key/Mode/interned`` members already decoded, by the hash of their bytes; a bounded
    /// number, so a file of all-different values costs no more than decoding each.
    public struct StringCache {
        var strings: [UInt64: String] = [:]
        static let capacity = 4_096

        public init() {}
    }

    /// A member's value. Nested objects and arrays are validated and skipped.
    public enum Value: Sendable, Equatable {
        case string(String)
        /// The UTF-8 bytes of a ``Key/Mode/bytes`` member's string.
        case bytes([UInt8])
        /// The hash of a ``Key/Mode/fingerprint`` member's string, and its length in bytes.
        case fingerprint(UInt64, length: Int)
        case number(Double)
        case bool(Bool)
        case null
        case nested

        /// The string, if this is one.
        public var string: String? {
            if case .string(let text) = self { return text }
            return nil
        }

        /// The number, if this is one (or a string holding one, as some exporters quote numbers).
        public var double: Double? {
            switch self {
            case .number(let value): value
            case .string(let text): Double(text)
            default: nil
            }
        }
    }

    /// Parses `bytes`, one JSON object, and fills `values` (resized to `keys.count`) with the value of each
    /// key in `keys`, nil where a key is absent; the first of duplicate members wins. Throws when `bytes` is not
    /// exactly one valid JSON object.
    public static func read(
        _ bytes: UnsafeBufferPointer<UInt8>,
        keys: [Key],
        into values: inout [Value?],
        cache: inout StringCache
    ) throws(IngestError) {
        if values.count == keys.count {
            for index in values.indices { values[index] = nil }
        } else {
            values = [Value?](repeating: nil, count: keys.count)
        }
        var cursor = JSONParser.Cursor(buffer: bytes)
        cursor.skipSpace()
        guard cursor.index < bytes.count, bytes[cursor.index] == UInt8(ascii: "{") else {
            throw cursor.error("expected a JSON object")
        }
        cursor.index += 1
        cursor.skipSpace()
        if cursor.index < bytes.count && bytes[cursor.index] == UInt8(ascii: "}") {
            cursor.index += 1
        } else {
            while true {
                cursor.skipSpace()
                guard cursor.index < bytes.count, bytes[cursor.index] == UInt8(ascii: "\"") else {
                    throw cursor.error("expected a member name")
                }
                let wanted = try Self.key(&cursor, keys)
                cursor.skipSpace()
                guard cursor.index < bytes.count, bytes[cursor.index] == UInt8(ascii: ":") else {
                    throw cursor.error("expected : after a member name")
                }
                cursor.index += 1
                cursor.skipSpace()
                let keep = wanted.flatMap { values[$0] == nil ? keys[$0].mode : nil }
                let value = try Self.value(&cursor, keep: keep, cache: &cache)
                if let wanted, values[wanted] == nil { values[wanted] = value }
                cursor.skipSpace()
                guard cursor.index < bytes.count else { throw cursor.error("unterminated object") }
                let byte = bytes[cursor.index]
                cursor.index += 1
                if byte == UInt8(ascii: "}") { break }
                guard byte == UInt8(ascii: ",") else {
                    cursor.index -= 1
                    throw cursor.error("expected , or } in an object")
                }
            }
        }
        cursor.skipSpace()
        guard cursor.index == bytes.count else { throw cursor.error("unexpected bytes after the JSON document") }
    }

    /// Reads a member name and returns the position of the key it matches, if any.
    private static func key(_ cursor: inout JSONParser.Cursor, _ keys: [Key]) throws(IngestError) -> Int? {
        let start = cursor.index + 1
        let end = Self.plainRun(cursor.buffer, from: start)
        guard end < cursor.buffer.count, cursor.buffer[end] == UInt8(ascii: "\"") else {
            // An escaped name: decode it the slow way.
            let name = try cursor.string()
            return keys.firstIndex { String(describing: $0.name) == name }
        }
        cursor.index = end + 1
        let name = UnsafeBufferPointer(rebasing: cursor.buffer[start..<end])
        let head = Key.head(name)
        return keys.firstIndex { $0.matches(name, head: head) }
    }

    /// Reads one value; strings are read as `keep` says, and only when it is set.
    private static func value(
        _ cursor: inout JSONParser.Cursor,
        keep: Key.Mode?,
        cache: inout StringCache
    ) throws(IngestError) -> Value {
        guard cursor.index < cursor.buffer.count else { throw cursor.error("unexpected end of input") }
        switch cursor.buffer[cursor.index] {
        case UInt8(ascii: "\""):
            switch keep {
            case nil:
                try Self.skipString(&cursor)
                return .nested
            case .text:
                return .string(try cursor.string())
            case .bytes, .fingerprint, .interned:
                let start = cursor.index + 1
                let plain = try Self.skipString(&cursor)
                let raw = UnsafeBufferPointer(rebasing: cursor.buffer[start..<(cursor.index - 1)])
                guard plain else {
                    // Escaped: the decoded text is what counts.
                    cursor.index = start - 1
                    let text = try cursor.string()
                    if keep == .interned { return .string(text) }
                    if keep == .bytes { return .bytes(Array(text.utf8)) }
                    return .fingerprint(SignatureHash.of(text), length: text.utf8.count)
                }
                if keep == .bytes { return .bytes(Array(raw)) }
                let hash = SignatureHash.of(UnsafeRawBufferPointer(raw))
                if keep == .fingerprint { return .fingerprint(hash, length: raw.count) }
                if let known = cache.strings[hash],
                    known.utf8.withContiguousStorageIfAvailable({
                        ByteEquality.equal(UnsafeRawBufferPointer($0), UnsafeRawBufferPointer(raw))
                    })
                        ?? known.utf8.elementsEqual(raw)
                {
                    return .string(known)
                }
                let text = String(decoding: raw, as: UTF8.self)
                if cache.strings.count < StringCache.capacity { cache.strings[hash] = text }
                return .string(text)
            }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            _ = try cursor.value(depth: 1)
            return .nested
        case UInt8(ascii: "t"):
            try cursor.literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try cursor.literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try cursor.literal("null")
            return .null
        default:
            return .number(try Self.number(&cursor))
        }
    }

    /// Steps over a string, checking its escapes, without decoding it; whether it held none (its bytes between
    /// the quotes are its text).
    @discardableResult
    private static func skipString(_ cursor: inout JSONParser.Cursor) throws(IngestError) -> Bool {
        let start = cursor.index
        cursor.index = Self.plainRun(cursor.buffer, from: start + 1)
        guard cursor.index < cursor.buffer.count else { throw cursor.error("unterminated string") }
        if cursor.buffer[cursor.index] == UInt8(ascii: "\"") {
            cursor.index += 1
            return true
        }
        // Escapes and errors: let the full decoder check them.
        cursor.index = start
        _ = try cursor.string()
        return false
    }

    /// The index of the first byte from `start` on that a string cannot hold as it is (a quote, a backslash or a
    /// control character), or the end: eight bytes a step (SWAR), as span IDs and log lines are long.
    @inline(__always)
    static func plainRun(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        if let base = buffer.baseAddress {
            let raw = UnsafeRawPointer(base)
            while index + 8 <= buffer.count {
                let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                let quote = word ^ (ones &* 0x22)
                let backslash = word ^ (ones &* 0x5C)
                // A byte is zero in `x` when (x - 1) & ~x has its high bit; below 0x20 when (x - 0x20) & ~x does.
                let special =
                    ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
                if special & highs != 0 { break }
                index += 8
            }
        }
        while index < buffer.count {
            let byte = buffer[index]
            if byte == UInt8(ascii: "\"") || byte == 0x5C || byte < 0x20 { return index }
            index += 1
        }
        return index
    }

    /// Reads a number: its extent by JSON's grammar, its value by ``DecimalNumber`` (exact and correctly rounded
    /// from the digits alone in the common case, the standard library's parser otherwise).
    private static func number(_ cursor: inout JSONParser.Cursor) throws(IngestError) -> Double {
        let buffer = cursor.buffer
        let start = cursor.index
        var index = start
        if index < buffer.count && buffer[index] == UInt8(ascii: "-") { index += 1 }
        var digits = 0
        while index < buffer.count, buffer[index] &- 0x30 < 10 {
            digits += 1
            index += 1
        }
        guard digits > 0 else { throw cursor.error("expected a value") }
        if index < buffer.count, buffer[index] == UInt8(ascii: ".") {
            index += 1
            var fraction = 0
            while index < buffer.count, buffer[index] &- 0x30 < 10 {
                fraction += 1
                index += 1
            }
            guard fraction > 0 else { throw cursor.error("expected digits after the decimal point") }
        }
        if index < buffer.count, buffer[index] == UInt8(ascii: "e") || buffer[index] == UInt8(ascii: "E") {
            index += 1
            if index < buffer.count, buffer[index] == UInt8(ascii: "+") || buffer[index] == UInt8(ascii: "-") {
                index += 1
            }
            var exponentDigits = 0
            while index < buffer.count, buffer[index] &- 0x30 < 10 {
                exponentDigits += 1
                index += 1
            }
            guard exponentDigits > 0 else { throw cursor.error("expected digits in the exponent") }
        }
        guard let value = DecimalNumber.value(UnsafeBufferPointer(rebasing: buffer[start..<index])) else {
            throw cursor.error("expected a value")
        }
        cursor.index = index
        return value
    }
}

/// A JSON-lines file read in chunks, which may be parsed at the same time: one record per line, from the chosen
/// members of a flat JSON object. Blank lines are skipped; lines that are not such an object, or that `record`
/// refuses, are counted with the first one's line number.
public enum JSONLines {
    /// What one chunk yields.
    public struct Part<Record> {
        public var records: [Record] = []
        /// Lines in the chunk, blank ones included.
        public var lines = 0
        public var skipped = 0
        /// The first skipped line, counted from the chunk's start (1-based; 0 when none).
        public var firstSkipped = 0

        public init() {}
    }

    /// Cuts `bytes` into ranges of about `size` bytes, each ending at a line end (or the end of the bytes).
    public static func chunks(_ bytes: UnsafeBufferPointer<UInt8>, size: Int) -> [Range<Int>] {
        var chunks: [Range<Int>] = []
        var start = 0
        while start < bytes.count {
            var end = min(start + max(1, size), bytes.count)
            while end < bytes.count && bytes[end - 1] != 0x0A { end += 1 }
            chunks.append(start..<end)
            start = end
        }
        return chunks
    }

    /// Reads the lines of one chunk.
    public static func read<Record>(
        _ bytes: UnsafeBufferPointer<UInt8>,
        keys: [JSONFields.Key],
        record: ([JSONFields.Value?]) -> Record?
    ) -> Part<Record> {
        var part = Part<Record>()
        var fields: [JSONFields.Value?] = []
        var cache = JSONFields.StringCache()
        var start = 0
        while start < bytes.count {
            let end = Self.lineEnd(bytes, from: start)
            part.lines += 1
            let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            guard line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { continue }
            if (try? JSONFields.read(line, keys: keys, into: &fields, cache: &cache)) != nil,
                let value = record(fields)
            {
                part.records.append(value)
            } else {
                part.skipped += 1
                if part.firstSkipped == 0 { part.firstSkipped = part.lines }
            }
        }
        return part
    }

    /// The index of the first line feed from `start` on, or the end: eight bytes a step.
    @inline(__always)
    static func lineEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        let ones: UInt64 = 0x0101_0101_0101_0101
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            while index + 8 <= bytes.count {
                let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ (ones &* 0x0A)
                if (word &- ones) & ~word & (ones &* 0x80) != 0 { break }
                index += 8
            }
        }
        while index < bytes.count && bytes[index] != 0x0A { index += 1 }
        return index
    }

    /// Joins the parts of consecutive chunks: their records in order, and the skipped lines with the first one's
    /// line number in the whole file.
    public static func join<Record>(_ parts: some Collection<Part<Record>>) -> Part<Record> {
        var whole = Part<Record>()
        // One allocation: a million records grown by doubling would be copied (and paged in) twenty times.
        whole.records.reserveCapacity(parts.reduce(0) { $0 + $1.records.count })
        for part in parts {
            whole.records += part.records
            if whole.firstSkipped == 0 && part.firstSkipped > 0 { whole.firstSkipped = whole.lines + part.firstSkipped }
            whole.skipped += part.skipped
            whole.lines += part.lines
        }
        return whole
    }
}
