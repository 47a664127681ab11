// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Replaces the variable parts of a log message with `<*>`, the first step of template mining.
///
/// A message is split on whitespace into tokens and each token on the punctuation `=:,;()[]{}"'<>#@|` into
/// segments, so `(HWID=1973)` becomes `(HWID=<*>)` and `10.0.0.1:50010` becomes `<*>:<*>`. A segment is a
/// variable when it is a number, an address, a hexadecimal or UUID value, a version or size, a path, a boolean or
/// `null`, or an identifier dominated by digits (`blk_-1608`, `appattempt_1445_0020`). Short identifiers with a
/// few digits (`ssh2`, `eth0`, `jk2_init`) stay: they usually name things rather than vary, and the miner turns
/// them into variables if they do vary. A word prefix before a number is kept (`core.2275` → `core.<*>`,
/// `node-12` → `node-<*>`), and so is trailing sentence punctuation.
///
/// Masking works on bytes and appends to a caller-owned buffer, so the hot path allocates nothing once the
/// buffer has grown.
public struct VariableMasker: Sendable {
    /// The placeholder written for every variable.
    public static let wildcard: [UInt8] = Array("<*>".utf8)

    /// The most digits an identifier that starts with a letter may hold and still count as a name (`ssh2`).
    public var maximumDigitsInName: Int

    /// Creates a masker.
    public init(maximumDigitsInName: Int = 3) {
        self.maximumDigitsInName = maximumDigitsInName
    }

    /// Appends the masked form of `message` to `output`: masked tokens separated by single spaces.
    ///
    /// - Parameters:
    ///   - message: The message bytes (UTF-8; invalid sequences pass through untouched).
    ///   - output: The buffer to append to; it is not cleared first.
    /// - Returns: The number of tokens written.
    @discardableResult
    public func mask(_ message: Span<UInt8>, into output: inout [UInt8]) -> Int {
        // One bounds-checked view, then raw indexing: this loop runs for every byte of every line.
        message.withUnsafeBufferPointer { self.mask($0, into: &output) }
    }

    /// Masks into `output` through a raw writer: the masked form is at most three times the input plus a few
    /// bytes (`/` becomes `<*>`), so the room is made once and every write is a plain store.
    private func mask(_ message: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) -> Int {
        let start = output.count
        let room = 3 * message.count + 8
        output.append(contentsOf: repeatElement(UInt8(0), count: room))
        var written = 0
        let tokens = output.withUnsafeMutableBufferPointer { buffer in
            var writer = MaskedWriter(base: buffer.baseAddress! + start)
            let tokens = self.maskTokens(message, into: &writer)
            written = writer.count
            return tokens
        }
        output.removeLast(room - written)
        return tokens
    }

    private func maskTokens(_ message: UnsafeBufferPointer<UInt8>, into output: inout MaskedWriter) -> Int {
        var tokens = 0
        var index = 0
        let count = message.count
        while index < count {
            while index < count && ByteClass.isSpace(message[index]) { index += 1 }
            guard index < count else { break }
            let start = index
            var colons = 0
            while index < count && !ByteClass.isSpace(message[index]) {
                if message[index] == UInt8(ascii: ":") { colons += 1 }
                index += 1
            }
            if tokens > 0 { output.append(0x20) }
            self.maskToken(message, start, index, colons: colons, into: &output)
            tokens += 1
        }
        return tokens
    }

    /// Returns the masked form of `message` as a string (convenience for tests and tools).
    public func mask(_ message: String) -> String {
        var output: [UInt8] = []
        var copy = message
        copy.withUTF8 { buffer in
            _ = self.mask(buffer, into: &output)
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Returns `message` with every run of whitespace replaced by one space and the ends trimmed: the text a
    /// template's ``WildcardPattern`` is matched against to recover parameters.
    public static func normalizedSpacing(_ message: String) -> String {
        message.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    // MARK: - Tokens

    private func maskToken(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        _ end: Int,
        colons: Int,
        into output: inout MaskedWriter
    ) {
        if end - start == 3 && Self.isMonthOrWeekday(bytes, start) {
            output.appendWildcard()
            return
        }
        if colons >= 2, let (coreStart, coreEnd) = Self.hexColonAddress(bytes, start, end) {
            Self.append(bytes, start, coreStart, to: &output)
            output.appendWildcard()
            Self.append(bytes, coreEnd, end, to: &output)
            return
        }
        if colons >= 1, let schemeEnd = Self.urlSchemeEnd(bytes, start, end) {
            // `https://host/path?q=1` is one value: keep the scheme and any closing punctuation.
            var valueEnd = end
            while valueEnd > schemeEnd && Self.isClosingPunctuation(bytes[valueEnd - 1]) { valueEnd -= 1 }
            self.maskSegment(bytes, start, schemeEnd - 3, into: &output)
            output.append(UInt8(ascii: ":"))
            output.append(UInt8(ascii: "/"))
            output.append(UInt8(ascii: "/"))
            output.appendWildcard()
            Self.append(bytes, valueEnd, end, to: &output)
            return
        }
        // One pass finds the segments and what each holds, so masking a segment need not scan it again.
        var segmentStart = start
        var shape = SegmentShape()
        var index = start
        while index < end {
            let byte = bytes[index]
            // Digits and `/-.` are the common bytes and never delimiters: test them first.
            if !shape.note(byte) && ByteClass.isSegmentDelimiter(byte) {
                self.maskSegment(bytes, segmentStart, index, shape, into: &output)
                output.append(byte)
                segmentStart = index + 1
                shape = SegmentShape()
            }
            index += 1
        }
        self.maskSegment(bytes, segmentStart, end, shape, into: &output)
    }

    // MARK: - Segments

    /// What a segment holds, counted while it is found.
    private struct SegmentShape {
        var digits = 0
        var hasSlash = false
        var hasDashOrDot = false

        /// Counts one byte of the segment; returns whether it was a digit, `/`, `-` or `.`.
        @inline(__always)
        @discardableResult
        mutating func note(_ byte: UInt8) -> Bool {
            if ByteClass.isDigit(byte) {
                self.digits += 1
            } else if byte == UInt8(ascii: "/") {
                self.hasSlash = true
            } else if byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") {
                self.hasDashOrDot = true
            } else {
                return false
            }
            return true
        }
    }

    private func maskSegment(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        _ end: Int,
        into output: inout MaskedWriter
    ) {
        var shape = SegmentShape()
        for index in start..<max(start, end) { shape.note(bytes[index]) }
        self.maskSegment(bytes, start, end, shape, into: &output)
    }

    private func maskSegment(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        _ end: Int,
        _ shape: SegmentShape,
        into output: inout MaskedWriter
    ) {
        guard start < end else { return }
        if Self.isLiteralValue(bytes, start, end) {
            output.appendWildcard()
            return
        }
        // Trailing sentence dots stay constant: `8030.` → `<*>.`
        if bytes[end - 1] == UInt8(ascii: ".") && end - start > 1 {
            var stem = end
            while stem > start && bytes[stem - 1] == UInt8(ascii: ".") { stem -= 1 }
            if stem > start {
                self.maskSegment(bytes, start, stem, into: &output)
                Self.append(bytes, stem, end, to: &output)
                return
            }
        }
        let digits = shape.digits
        if shape.hasSlash {
            self.maskPathLike(bytes, start, end, into: &output)
            return
        }
        if digits == 0 {
            Self.append(bytes, start, end, to: &output)
            return
        }
        // `core.2275`, `node-12`, `instruction....0x1f`: keep the word, mask the number.
        var wordEnd = start
        while wordEnd < end && ByteClass.isLetter(bytes[wordEnd]) { wordEnd += 1 }
        var numberStart = wordEnd
        while numberStart < end && (bytes[numberStart] == UInt8(ascii: ".") || bytes[numberStart] == UInt8(ascii: "-"))
        {
            numberStart += 1
        }
        if wordEnd > start && numberStart > wordEnd && numberStart < end
            && Self.allHexLike(bytes, numberStart, end)
        {
            Self.append(bytes, start, numberStart, to: &output)
            output.appendWildcard()
            return
        }
        if ByteClass.isLetter(bytes[start]) && digits <= self.maximumDigitsInName && !shape.hasDashOrDot {
            Self.append(bytes, start, end, to: &output)
            return
        }
        output.appendWildcard()
    }

    private func maskPathLike(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        _ end: Int,
        into output: inout MaskedWriter
    ) {
        let first = bytes[start]
        let second: UInt8 = end - start > 1 ? bytes[start + 1] : 0
        if first == UInt8(ascii: "/") && second == UInt8(ascii: "/") {
            output.append(UInt8(ascii: "/"))
            output.append(UInt8(ascii: "/"))
            output.appendWildcard()
            return
        }
        if first == UInt8(ascii: "/")
            || ((first == UInt8(ascii: ".") || first == UInt8(ascii: "~")) && second == UInt8(ascii: "/"))
        {
            output.appendWildcard()
            return
        }
        // `host/10.0.0.1` or `pkg/.Activity`: mask each part on its own.
        var partStart = start
        for index in start..<end where bytes[index] == UInt8(ascii: "/") {
            self.maskSegment(bytes, partStart, index, into: &output)
            output.append(UInt8(ascii: "/"))
            partStart = index + 1
        }
        self.maskSegment(bytes, partStart, end, into: &output)
    }

    // MARK: - Recognisers

    @inline(__always)
    private static func append(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ start: Int,
        _ end: Int,
        to output: inout MaskedWriter
    ) {
        output.append(bytes, start, end)
    }

    private static func allHexLike(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        for index in start..<end {
            let byte = bytes[index]
            if !(ByteClass.isHexDigit(byte) || byte == UInt8(ascii: "x") || byte == UInt8(ascii: "X")) {
                return false
            }
        }
        return true
    }

    /// `true`, `false`, `null`, `None` and their capitalised forms are values, never part of a template.
    private static func isLiteralValue(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        let length = end - start
        guard length == 4 || length == 5 else { return false }
        var key: UInt64 = 0
        for index in start..<end { key = key << 8 | UInt64(bytes[index]) }
        switch key {
        case 0x7472_7565, 0x5472_7565, 0x5452_5545:  // true True TRUE
            return true
        case 0x66_616C_7365, 0x46_616C_7365, 0x46_414C_5345:  // false False FALSE
            return true
        case 0x6E75_6C6C, 0x4E55_4C4C, 0x4E75_6C6C, 0x4E6F_6E65:  // null NULL Null None
            return true
        default:
            return false
        }
    }

    /// Three-letter English month and weekday names (`Jul`, `Sun`) are parts of dates.
    private static func isMonthOrWeekday(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> Bool {
        let key = UInt32(bytes[start]) << 16 | UInt32(bytes[start + 1]) << 8 | UInt32(bytes[start + 2])
        switch key {
        // Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec
        case 0x4A_616E, 0x46_6562, 0x4D_6172, 0x41_7072, 0x4D_6179, 0x4A_756E, 0x4A_756C, 0x41_7567, 0x53_6570,
            0x4F_6374, 0x4E_6F76, 0x44_6563:
            return true
        // Mon Tue Wed Thu Fri Sat Sun
        case 0x4D_6F6E, 0x54_7565, 0x57_6564, 0x54_6875, 0x46_7269, 0x53_6174, 0x53_756E:
            return true
        default:
            return false
        }
    }

    /// Finds an IPv6 or MAC address (hex groups joined by `:`, at least two colons, and a hex letter or at least
    /// four colons), ignoring surrounding brackets and punctuation; returns its bounds.
    private static func hexColonAddress(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (Int, Int)? {
        var coreStart = start
        while coreStart < end && isOpeningPunctuation(bytes[coreStart]) { coreStart += 1 }
        var coreEnd = end
        while coreEnd > coreStart && isClosingPunctuation(bytes[coreEnd - 1]) { coreEnd -= 1 }
        guard coreEnd - coreStart >= 5 else { return nil }
        var colons = 0
        var hexLetters = 0
        var digits = 0
        for index in coreStart..<coreEnd {
            let byte = bytes[index]
            if byte == UInt8(ascii: ":") {
                colons += 1
            } else if ByteClass.isDigit(byte) {
                digits += 1
            } else if ByteClass.isHexDigit(byte) {
                hexLetters += 1
            } else {
                return nil
            }
        }
        guard colons >= 2, digits > 0, hexLetters > 0 || colons >= 4 else { return nil }
        return (coreStart, coreEnd)
    }

    /// Finds `scheme://` inside a token (after optional punctuation such as `url=`); returns where the value
    /// after `://` starts.
    private static func urlSchemeEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        var index = start
        while index + 3 < end {
            if bytes[index] == UInt8(ascii: ":") && bytes[index + 1] == UInt8(ascii: "/")
                && bytes[index + 2] == UInt8(ascii: "/")
            {
                guard index > start, ByteClass.isLetter(bytes[index - 1]) else { return nil }
                return index + 3
            }
            index += 1
        }
        return nil
    }

    private static func isOpeningPunctuation(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "[") || byte == UInt8(ascii: "(") || byte == UInt8(ascii: "<")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }

    private static func isClosingPunctuation(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "]") || byte == UInt8(ascii: ")") || byte == UInt8(ascii: ">")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: ",")
            || byte == UInt8(ascii: ";") || byte == UInt8(ascii: ".")
    }
}

/// Writes masked bytes into memory the caller sized for the worst case.
private struct MaskedWriter {
    let base: UnsafeMutablePointer<UInt8>
    var count = 0

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        self.base[self.count] = byte
        self.count += 1
    }

    @inline(__always)
    mutating func appendWildcard() {
        self.base[self.count] = UInt8(ascii: "<")
        self.base[self.count + 1] = UInt8(ascii: "*")
        self.base[self.count + 2] = UInt8(ascii: ">")
        self.count += 3
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) {
        guard start < end else { return }
        (self.base + self.count).update(from: bytes.baseAddress! + start, count: end - start)
        self.count += end - start
    }
}
