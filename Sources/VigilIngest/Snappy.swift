// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import VigilCore

/// The snappy *block* format (not the framed stream format), as Prometheus remote_write and Loki push use it.
public enum Snappy {
    /// Decompresses a block, refusing any whose declared size exceeds `maximumLength`.
    public static func decompress(_ input: [UInt8], maximumLength: Int) throws(IngestError) -> [UInt8] {
        var index = 0
        let declared = try varint(input, &index)
        guard declared <= UInt64(maximumLength) else {
            throw IngestError("snappy: block declares \(declared) bytes, more than the limit of \(maximumLength)")
        }
        let length = Int(declared)
        var failure: IngestError?
        let output = [UInt8](unsafeUninitializedCapacity: length) { out, initialized in
            failure = input.withUnsafeBufferPointer { source in
                Self.decode(source, from: index, into: out, written: &initialized)
            }
            if failure != nil { initialized = 0 }
        }
        if let failure { throw failure }
        return output
    }

    /// Decodes the elements after the preamble into `out`, whose size is the declared length; returns the error
    /// if the block is damaged. Every copy is bounds-checked before it is made.
    private static func decode(
        _ input: UnsafeBufferPointer<UInt8>,
        from start: Int,
        into out: UnsafeMutableBufferPointer<UInt8>,
        written: inout Int
    ) -> IngestError? {
        var index = start
        var position = 0
        let length = out.count
        while index < input.count {
            let tag = input[index]
            index += 1
            var copyLength = 0
            var offset = 0
            switch tag & 3 {
            case 0:
                var literal = Int(tag >> 2)
                if literal >= 60 {
                    let bytes = literal - 59
                    guard index + bytes <= input.count else { return IngestError("snappy: truncated literal length") }
                    literal = 0
                    for shift in 0..<bytes { literal |= Int(input[index + shift]) << (8 * shift) }
                    index += bytes
                }
                literal += 1
                guard literal <= input.count - index else { return IngestError("snappy: literal runs past the input") }
                guard literal <= length - position else { return IngestError("snappy: output exceeds its size") }
                (out.baseAddress! + position).update(from: input.baseAddress! + index, count: literal)
                position += literal
                written = position
                index += literal
                continue
            case 1:
                guard index < input.count else { return IngestError("snappy: truncated copy") }
                copyLength = 4 + Int((tag >> 2) & 7)
                offset = Int(tag >> 5) << 8 | Int(input[index])
                index += 1
            case 2:
                guard index + 2 <= input.count else { return IngestError("snappy: truncated copy") }
                copyLength = 1 + Int(tag >> 2)
                offset = Int(input[index]) | Int(input[index + 1]) << 8
                index += 2
            default:
                guard index + 4 <= input.count else { return IngestError("snappy: truncated copy") }
                copyLength = 1 + Int(tag >> 2)
                offset = 0
                for shift in 0..<4 { offset |= Int(input[index + shift]) << (8 * shift) }
                index += 4
            }
            guard offset > 0, offset <= position else { return IngestError("snappy: copy offset out of range") }
            guard copyLength <= length - position else { return IngestError("snappy: output exceeds its size") }
            let base = out.baseAddress!
            if offset >= copyLength {
                (base + position).update(from: base + position - offset, count: copyLength)
            } else {
                // Overlapping copy: a repeating pattern, byte by byte.
                for step in 0..<copyLength { base[position + step] = base[position - offset + step] }
            }
            position += copyLength
            written = position
        }
        guard position == length else {
            return IngestError("snappy: block decodes to \(position) bytes but declares \(length)")
        }
        return nil
    }

    /// Compresses a block: greedy matching of 4-byte sequences, enough for fixtures and load generators.
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        Self.compress(input, keepingLiteral: []).bytes
    }

    /// Compresses a block in which the bytes of `ranges` (sorted, disjoint) are always written as literals and
    /// never matched, so they can be rewritten in the compressed block: `literalPositions` says where each of
    /// their bytes landed, in order. A load generator stamps new timestamps this way without compressing again.
    public static func compress(
        _ input: [UInt8],
        keepingLiteral ranges: [Range<Int>]
    ) -> (bytes: [UInt8], literalPositions: [Int]) {
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 2 + 16)
        Varint.append(UInt64(input.count), to: &output)
        var kept = [Bool](repeating: false, count: input.count + 1)
        for range in ranges { for index in range { kept[index] = true } }
        var positions: [Int] = []
        var table = [Int](repeating: -1, count: 1 << 14)
        var literalStart = 0
        var index = 0
        func key(_ at: Int) -> Int {
            let word =
                UInt32(input[at]) | UInt32(input[at + 1]) << 8 | UInt32(input[at + 2]) << 16
                | UInt32(input[at + 3]) << 24
            return Int((word &* 0x1E35_A7BD) >> 18)
        }
        func emitLiteral(_ from: Int, _ to: Int) {
            var start = from
            while start < to {
                let count = min(to - start, 65536)
                let n = count - 1
                if n < 60 {
                    output.append(UInt8(n << 2))
                } else if n < 256 {
                    output.append(60 << 2)
                    output.append(UInt8(n))
                } else {
                    output.append(61 << 2)
                    output.append(UInt8(n & 0xFF))
                    output.append(UInt8(n >> 8))
                }
                if !ranges.isEmpty {
                    for offset in 0..<count where kept[start + offset] { positions.append(output.count + offset) }
                }
                output.append(contentsOf: input[start..<start + count])
                start += count
            }
        }
        // A 4-byte window may start a match only if none of its bytes is kept.
        func free(_ at: Int) -> Bool { !kept[at] && !kept[at + 1] && !kept[at + 2] && !kept[at + 3] }
        while index + 4 <= input.count {
            guard ranges.isEmpty || free(index) else {
                index += 1
                continue
            }
            let slot = key(index)
            let candidate = table[slot]
            table[slot] = index
            if candidate >= 0, index - candidate < 65536,
                input[candidate] == input[index], input[candidate + 1] == input[index + 1],
                input[candidate + 2] == input[index + 2], input[candidate + 3] == input[index + 3]
            {
                emitLiteral(literalStart, index)
                var matched = 4
                while index + matched < input.count && input[candidate + matched] == input[index + matched]
                    && matched < 64 && !kept[index + matched] && !kept[candidate + matched]
                {
                    matched += 1
                }
                let offset = index - candidate
                output.append(UInt8((matched - 1) << 2) | 2)
                output.append(UInt8(offset & 0xFF))
                output.append(UInt8(offset >> 8))
                index += matched
                literalStart = index
            } else {
                index += 1
            }
        }
        emitLiteral(literalStart, input.count)
        return (output, positions)
    }

    static func varint(_ input: [UInt8], _ index: inout Int) throws(IngestError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < input.count {
            let byte = input[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            guard shift < 64 else { break }
        }
        throw IngestError("snappy: bad length preamble")
    }
}
