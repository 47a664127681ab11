// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// `[Float]` as one hexadecimal string of the values' bits, for checkpoints: a JSON array of 456 numbers costs an
/// object per number in Foundation's encoder (hundreds of megabytes for 10,000 series); one string costs one.
enum PackedFloats {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Eight hex digits per value, big-endian bits; NaN and infinities survive.
    static func encode(_ values: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 8)
        for value in values {
            let bits = value.bitPattern
            var shift: UInt32 = 28
            for _ in 0..<8 {
                bytes.append(Self.digits[Int((bits >> shift) & 0xF)])
                shift &-= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The values back, or nil when the text is not a multiple of eight hex digits.
    static func decode(_ text: String) -> [Float]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 8 == 0 else { return nil }
        var values = [Float]()
        values.reserveCapacity(bytes.count / 8)
        var index = 0
        while index < bytes.count {
            var bits: UInt32 = 0
            for offset in 0..<8 {
                let byte = bytes[index + offset]
                let nibble: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
                default: return nil
                }
                bits = bits << 4 | UInt32(nibble)
            }
            values.append(Float(bitPattern: bits))
            index += 8
        }
        return values
    }
}

/// A decoding error for packed arrays.
struct PackedFloatsError: Error, CustomStringConvertible {
    var description: String
}
