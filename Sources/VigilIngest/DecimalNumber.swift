// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Plain decimal numbers read straight from bytes, for files of millions of values (CSV cells, JSON members).
public enum DecimalNumber {
    /// The value of `bytes` when they are, as a whole, a plain decimal (an optional `-`, digits, optionally a
    /// `.` and more digits) that Clinger's fast path reads exactly: at most 2^53 in its digits and at most 22
    /// of them after the point, so one exact operand over an exact power of ten is correctly rounded. Nil for
    /// anything else (exponents, long digit strings, `+`, `inf`, spaces), which the standard library's parser
    /// should read instead.
    @inline(__always)
    public static func fastValue(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var index = 0
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        while index < bytes.count, bytes[index] &- 0x30 < 10 {
            guard mantissa < (1 << 53) / 10 else { return nil }
            mantissa = mantissa * 10 + UInt64(bytes[index] &- 0x30)
            digits += 1
            index += 1
        }
        guard digits > 0 else { return nil }
        var scale = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, bytes[index] &- 0x30 < 10 {
                guard mantissa < (1 << 53) / 10 else { return nil }
                mantissa = mantissa * 10 + UInt64(bytes[index] &- 0x30)
                scale += 1
                index += 1
            }
            guard scale > 0 else { return nil }
        }
        guard index == bytes.count, scale < Self.exactPowers.count else { return nil }
        let magnitude = Double(mantissa) / Self.exactPowers[scale]
        return negative ? -magnitude : magnitude
    }

    /// The value of `bytes` as a whole, by the fast path when it applies and the standard library's parser
    /// otherwise; nil when they are not a number.
    public static func value(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        Self.fastValue(bytes) ?? Double(String(decoding: bytes, as: UTF8.self))
    }

    /// Powers of ten a Double holds exactly.
    private static let exactPowers: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }
}
