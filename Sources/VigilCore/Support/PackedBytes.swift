// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A little-endian byte writer for compact checkpoint fields: a detector's state as one base64 string is one
/// JSON value instead of a hundred (Foundation's encoder costs an object per value, which for 10,000 series
/// dominated the checkpoint's peak memory).
struct PackedWriter {
    private(set) var bytes: [UInt8] = []

    mutating func write(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) {
            self.bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    mutating func write(_ value: Double) { self.write(value.bitPattern) }

    mutating func write(_ value: Int) { self.write(UInt64(bitPattern: Int64(value))) }

    mutating func write(_ values: [Float]) {
        self.write(values.count)
        for value in values {
            let bits = value.bitPattern
            for shift in stride(from: 0, to: 32, by: 8) {
                self.bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift)))
            }
        }
    }

    /// The bytes as standard base64.
    var base64: String { Base64.encode(self.bytes) }
}

/// Reads what ``PackedWriter`` wrote; every read fails cleanly on short or malformed input.
struct PackedReader {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let bytes: [UInt8]
    private var offset = 0

    init(base64: String) throws {
        guard let bytes = Base64.decode(base64) else { throw Failure(description: "not base64") }
        self.bytes = bytes
    }

    var isAtEnd: Bool { self.offset == self.bytes.count }

    mutating func uint64() throws -> UInt64 {
        guard self.offset + 8 <= self.bytes.count else { throw Failure(description: "truncated") }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(self.bytes[self.offset + index]) << UInt64(index * 8) }
        self.offset += 8
        return value
    }

    mutating func double() throws -> Double { Double(bitPattern: try self.uint64()) }

    mutating func int() throws -> Int { Int(Int64(bitPattern: try self.uint64())) }

    mutating func floats(count expected: Int? = nil) throws -> [Float] {
        let count = try self.int()
        guard count >= 0, count <= 1 << 20, self.offset + 4 * count <= self.bytes.count,
            expected.map({ $0 == count }) ?? true
        else { throw Failure(description: "bad array length \(count)") }
        var values = [Float]()
        values.reserveCapacity(count)
        for _ in 0..<count {
            var bits: UInt32 = 0
            for index in 0..<4 { bits |= UInt32(self.bytes[self.offset + index]) << UInt32(index * 8) }
            self.offset += 4
            values.append(Float(bitPattern: bits))
        }
        return values
    }
}

/// Standard base64 (RFC 4648, with padding), without Foundation.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let a = UInt32(bytes[index])
            let b = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let c = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let triple = a << 16 | b << 8 | c
            out.append(Self.alphabet[Int(triple >> 18 & 63)])
            out.append(Self.alphabet[Int(triple >> 12 & 63)])
            out.append(index + 1 < bytes.count ? Self.alphabet[Int(triple >> 6 & 63)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? Self.alphabet[Int(triple & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            var quad: UInt32 = 0
            var padding = 0
            for offset in 0..<4 {
                let byte = input[index + offset]
                if byte == UInt8(ascii: "=") && offset >= 2 && index + 4 == input.count {
                    padding += 1
                    quad <<= 6
                    continue
                }
                let value = Self.values[Int(byte)]
                guard value != 0xFF, padding == 0 else { return nil }
                quad = quad << 6 | UInt32(value)
            }
            out.append(UInt8(quad >> 16 & 0xFF))
            if padding < 2 { out.append(UInt8(quad >> 8 & 0xFF)) }
            if padding < 1 { out.append(UInt8(quad & 0xFF)) }
            index += 4
        }
        return out
    }
}

/// A value whose checkpoint form is one base64 string of its packed state.
protocol PackedCodable: Codable {
    /// Appends the state.
    func write(to writer: inout PackedWriter)
    /// Reads what ``write(to:)`` wrote.
    init(reading reader: inout PackedReader) throws
}

extension PackedCodable {
    /// Decodes the base64 string.
    public init(from decoder: any Decoder) throws {
        var reader = try PackedReader(base64: try decoder.singleValueContainer().decode(String.self))
        try self.init(reading: &reader)
        guard reader.isAtEnd else { throw PackedReader.Failure(description: "trailing bytes in \(Self.self)") }
    }

    /// Encodes the state as one base64 string.
    public func encode(to encoder: any Encoder) throws {
        var writer = PackedWriter()
        self.write(to: &writer)
        var container = encoder.singleValueContainer()
        try container.encode(writer.base64)
    }
}
