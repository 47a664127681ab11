// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// ASCII byte classification used by every byte scanner in the log path.
enum ByteClass {
    /// Whether `byte` separates tokens (space, tab, CR, LF, and other control bytes).
    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool { byte <= 0x20 }

    /// Whether `byte` is `0`…`9`.
    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    /// Whether `byte` is an ASCII letter.
    @inline(__always)
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 26 }

    /// Whether `byte` is a hexadecimal digit.
    @inline(__always)
    static func isHexDigit(_ byte: UInt8) -> Bool { isDigit(byte) || (byte | 0x20) &- 0x61 < 6 }

    /// Whether `byte` is punctuation that splits a token into segments during masking: `=:,;()[]{}"'<>#@|`.
    @inline(__always)
    static func isSegmentDelimiter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"),
            UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "#"),
            UInt8(ascii: "@"), UInt8(ascii: "|"):
            true
        default:
            false
        }
    }
}

extension Span where Element == UInt8 {
    /// Decodes bytes `start..<end` as UTF-8, repairing invalid sequences.
    func string(from start: Int, to end: Int) -> String {
        self.extracting(start..<end).withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether `word` stands at `start`.
    func holds(_ word: [UInt8], at start: Int) -> Bool {
        guard start >= 0, start + word.count <= self.count else { return false }
        for (offset, byte) in word.enumerated() where self[start + offset] != byte { return false }
        return true
    }
}
