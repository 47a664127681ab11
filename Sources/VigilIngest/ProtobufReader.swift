// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import VigilCore

/// What reading the protobuf wire format needs from where the bytes live; field keys and skipping follow.
protocol ProtobufWire {
    mutating func varint() throws(IngestError) -> UInt64
    /// Moves past `count` bytes, or fails if fewer are left.
    mutating func advance(_ count: Int) throws(IngestError)
    /// Bytes left in the message.
    var remaining: Int { get }
}

extension ProtobufWire {
    /// The next field's number and wire type.
    @inline(__always)
    mutating func field() throws(IngestError) -> (number: Int, wireType: Int) {
        let key = try self.varint()
        let number = Int(truncatingIfNeeded: key >> 3)
        guard number > 0 else { throw IngestError("protobuf: field number 0") }
        return (number, Int(key & 7))
    }

    /// Skips a field of a wire type not asked for.
    mutating func skip(wireType: Int) throws(IngestError) {
        switch wireType {
        case 0: _ = try self.varint()
        case 1: try self.advance(8)
        case 2:
            let length = try self.varint()
            guard length <= UInt64(self.remaining) else {
                throw IngestError("protobuf: field length runs past the message")
            }
            try self.advance(Int(length))
        case 5: try self.advance(4)
        default: throw IngestError("protobuf: unsupported wire type \(wireType)")
        }
    }
}

/// Reads the protobuf wire format field by field, bounds-checked: enough for the few messages Vigil receives,
/// without generated code.
struct ProtobufReader: ProtobufWire {
    let bytes: ArraySlice<UInt8>
    var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var isAtEnd: Bool { self.index >= self.bytes.endIndex }

    var remaining: Int { self.bytes.endIndex - self.index }

    mutating func varint() throws(IngestError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while self.index < self.bytes.endIndex {
            let byte = self.bytes[self.index]
            self.index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            guard shift < 70 else { break }
        }
        throw IngestError("protobuf: truncated or overlong varint")
    }

    /// A fixed 64-bit field (wire type 1), little-endian.
    mutating func fixed64() throws(IngestError) -> UInt64 {
        guard self.bytes.endIndex - self.index >= 8 else { throw IngestError("protobuf: truncated fixed64") }
        var value: UInt64 = 0
        for shift in 0..<8 { value |= UInt64(self.bytes[self.index + shift]) << (8 * shift) }
        self.index += 8
        return value
    }

    /// A length-delimited field's bytes.
    mutating func lengthDelimited() throws(IngestError) -> ArraySlice<UInt8> {
        let length = try self.varint()
        guard length <= UInt64(self.bytes.endIndex - self.index) else {
            throw IngestError("protobuf: field length runs past the message")
        }
        let end = self.index + Int(length)
        defer { self.index = end }
        return self.bytes[self.index..<end]
    }

    mutating func advance(_ count: Int) throws(IngestError) {
        guard self.bytes.endIndex - self.index >= count else { throw IngestError("protobuf: truncated field") }
        self.index += count
    }
}

/// ``ProtobufReader`` over borrowed memory, for hot paths: fields come back as offsets, so reading a message
/// creates no slices and touches no reference counts. Valid only inside the `withUnsafeBytes` that lent `base`.
struct ProtobufCursor: ProtobufWire {
    let base: UnsafeRawBufferPointer
    var index: Int
    let end: Int

    init(_ base: UnsafeRawBufferPointer, _ range: Range<Int>) {
        self.base = base
        self.index = range.lowerBound
        self.end = range.upperBound
    }

    var isAtEnd: Bool { self.index >= self.end }

    var remaining: Int { self.end - self.index }

    @inline(__always)
    mutating func varint() throws(IngestError) -> UInt64 {
        if self.index < self.end {
            let byte = self.base[self.index]
            if byte < 0x80 {
                self.index += 1
                return UInt64(byte)
            }
        }
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while self.index < self.end {
            let byte = self.base[self.index]
            self.index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            guard shift < 70 else { break }
        }
        throw IngestError("protobuf: truncated or overlong varint")
    }

    /// A fixed 64-bit field (wire type 1), little-endian.
    @inline(__always)
    mutating func fixed64() throws(IngestError) -> UInt64 {
        guard self.end - self.index >= 8 else { throw IngestError("protobuf: truncated fixed64") }
        defer { self.index += 8 }
        return UInt64(littleEndian: self.base.loadUnaligned(fromByteOffset: self.index, as: UInt64.self))
    }

    /// Where a length-delimited field's bytes are.
    @inline(__always)
    mutating func lengthDelimited() throws(IngestError) -> Range<Int> {
        let length = try self.varint()
        guard length <= UInt64(self.end - self.index) else {
            throw IngestError("protobuf: field length runs past the message")
        }
        let start = self.index
        self.index += Int(length)
        return start..<self.index
    }

    mutating func advance(_ count: Int) throws(IngestError) {
        guard self.end - self.index >= count else { throw IngestError("protobuf: truncated field") }
        self.index += count
    }
}

/// Writes the protobuf wire format, for fixtures and load generators.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) { Varint.append(value, to: &self.bytes) }

    mutating func field(_ number: Int, varint value: UInt64) {
        self.varint(UInt64(number << 3))
        self.varint(value)
    }

    mutating func fixed64(_ number: Int, _ value: UInt64) {
        self.varint(UInt64(number << 3 | 1))
        for shift in 0..<8 { self.bytes.append(UInt8(truncatingIfNeeded: value >> (8 * shift))) }
    }

    mutating func field(_ number: Int, bytes value: some Collection<UInt8>) {
        self.varint(UInt64(number << 3 | 2))
        self.varint(UInt64(value.count))
        self.bytes.append(contentsOf: value)
    }
}
