// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// One whitespace-separated field at the start of a log line, with the kind of value it holds.
///
/// A bracketed group such as `[Sun Dec 04 04:47:44 2005]` is one field even though it holds spaces.
struct HeaderField: Sendable {
    /// What a header field holds, as far as its bytes tell.
    enum Kind: UInt8, Sendable, Hashable {
        /// Digits only (`148`, `1117838570`).
        case number
        /// A date, time or part of one (`2015-10-18`, `18:01:47,978`, `Jun`, `17/06/09`).
        case time
        /// A level word (`INFO`, `W`, `notice`).
        case level
        /// A bracketed group other than a time or level (`[main]`).
        case bracket
        /// Ends the header: a component followed by a colon (`sshd[24200]:`, `dfs.DataNode:`), or klog's `file.go:12]`.
        case terminator
        /// A lone separator (`-`, `|`).
        case separator
        /// A dotted-quad address (`127.0.0.1`).
        case address
        /// A field opening a quoted string (`"GET`): messages such as HTTP request lines start here.
        case quoted
        /// Anything else (host names, class names, message words).
        case word

        /// Whether a column of this kind can end a header.
        var isStructural: Bool { self != .word && self != .separator && self != .quoted }
    }

    /// Where the field starts in the line.
    var start: Int
    /// Where the field ends in the line (exclusive).
    var end: Int
    /// What it holds.
    var kind: Kind

    /// Splits up to `limit` header fields off the start of `line`.
    static func split(_ line: Span<UInt8>, limit: Int) -> [HeaderField] {
        var fields: [HeaderField] = []
        fields.reserveCapacity(limit)
        var index = 0
        let count = line.count
        while index < count && fields.count < limit {
            while index < count && ByteClass.isSpace(line[index]) { index += 1 }
            guard index < count else { break }
            let start = index
            if line[index] == UInt8(ascii: "[") {
                // A bracketed group may hold spaces; look for its end within a short reach.
                var probe = index + 1
                while probe < count && probe - index < 256 && line[probe] != UInt8(ascii: "]") { probe += 1 }
                if probe < count && line[probe] == UInt8(ascii: "]")
                    && (probe + 1 == count || ByteClass.isSpace(line[probe + 1]))
                {
                    index = probe + 1
                    fields.append(HeaderField(start: start, end: index, kind: classifyBracket(line, start, index)))
                    continue
                }
            }
            // `|` separates fields even without spaces around it (`20171223-22:15:29:606|Step_LSC|30002312|msg`).
            if line[index] == UInt8(ascii: "|") {
                index += 1
                fields.append(HeaderField(start: start, end: index, kind: .separator))
                continue
            }
            while index < count && !ByteClass.isSpace(line[index]) && line[index] != UInt8(ascii: "|") { index += 1 }
            fields.append(HeaderField(start: start, end: index, kind: classify(line, start, index)))
        }
        return fields
    }

    private static func classifyBracket(_ line: Span<UInt8>, _ start: Int, _ end: Int) -> Kind {
        let inner = line.extracting((start + 1)..<(end - 1))
        if Severity(levelWord: inner) != nil { return .level }
        if looksLikeTime(line, start + 1, end - 1) { return .time }
        // Ruby's Logger: `[2023-01-29T08:50:01.123456 #1234]`, a full timestamp and then the pid.
        var firstEnd = start + 1
        while firstEnd < end - 1 && line[firstEnd] != 0x20 { firstEnd += 1 }
        return firstEnd - start - 1 >= 19 && looksLikeTime(line, start + 1, firstEnd) ? .time : .bracket
    }

    static func classify(_ line: Span<UInt8>, _ start: Int, _ end: Int) -> Kind {
        let length = end - start
        let first = line[start]
        let last = line[end - 1]
        if length == 1 && (first == UInt8(ascii: "-") || first == UInt8(ascii: "|")) { return .separator }
        if first == UInt8(ascii: "\"") { return .quoted }
        // Spring Boot's `o.s.w.s.DispatcherServlet : message`: a colon of its own ends the logger's name.
        if length == 1 && first == UInt8(ascii: ":") { return .terminator }
        if length > 1 && last == UInt8(ascii: ":") && line[end - 2] != UInt8(ascii: ":") {
            return isTimeText(line, start, end - 1) ? .time : .terminator
        }
        if length > 2 && first == UInt8(ascii: "[") && last == UInt8(ascii: "]") {
            return Severity(levelWord: line.extracting((start + 1)..<(end - 1))) != nil ? .level : .bracket
        }
        if length > 2 && last == UInt8(ascii: "]") && first != UInt8(ascii: "[") && line[end - 2] != UInt8(ascii: "[") {
            return .terminator
        }
        if length <= 12, Severity(levelWord: line.extracting(start..<end)) != nil { return .level }
        var digits = 0
        var letters = 0
        var dots = 0
        for index in start..<end {
            let byte = line[index]
            if ByteClass.isDigit(byte) {
                digits += 1
            } else if ByteClass.isLetter(byte) {
                letters += 1
            } else if byte == UInt8(ascii: ".") {
                dots += 1
            }
        }
        if digits == length || (first == UInt8(ascii: "-") && digits == length - 1) { return .number }
        if dots == 3 && digits + dots == length { return .address }
        if isTimeText(line, start, end) { return .time }
        // klog: `I1010` is a level letter followed by month and day.
        if length == 5 && letters == 1 && digits == 4 && "IWEFD".utf8.contains(first) { return .time }
        return .word
    }

    /// Whether the text is a month or weekday name, or digits with date/time separators.
    static func isTimeText(_ line: Span<UInt8>, _ start: Int, _ end: Int) -> Bool {
        if end - start == 3 && MonthName.number(line, start) != nil { return true }
        if end - start == 3 && MonthName.isWeekday(line, start) { return true }
        if end - start == 2 && MonthName.meridiem(line, start) != nil { return true }
        return looksLikeTime(line, start, end)
    }

    /// Digits with separators (`-`, `:`, `/`, `.`, `,`, `T`, `Z`, `+`) and at least one digit-separator-digit step,
    /// or a textual date such as `10/Oct/2000:13:55:36`.
    static func looksLikeTime(_ line: Span<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var digits = 0
        var separators = 0
        var index = start
        while index < end {
            let byte = line[index]
            if ByteClass.isDigit(byte) {
                digits += 1
            } else if byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "/")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "T")
                || byte == UInt8(ascii: "Z") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: " ")
            {
                separators += 1
            } else if ByteClass.isLetter(byte), index + 3 <= end,
                MonthName.number(line, index) != nil
                    || MonthName.isWeekday(line, index)
            {
                index += 3
                digits += 1
                continue
            } else {
                return false
            }
            index += 1
        }
        return digits >= 2 && separators >= 1
    }
}

/// English month and weekday abbreviations, and the AM and PM of a 12-hour clock.
enum MonthName {
    /// Whether `AM` (false) or `PM` (true), in any case, starts at `start`; nil for neither.
    static func meridiem(_ line: Span<UInt8>, _ start: Int) -> Bool? {
        guard start + 2 <= line.count, line[start + 1] | 0x20 == UInt8(ascii: "m") else { return nil }
        switch line[start] | 0x20 {
        case UInt8(ascii: "a"): return false
        case UInt8(ascii: "p"): return true
        default: return nil
        }
    }

    /// The month number (1…12) of a three-letter abbreviation at `start`, in any case.
    static func number(_ line: Span<UInt8>, _ start: Int) -> Int? {
        guard start + 3 <= line.count else { return nil }
        let key = Int(line[start] | 0x20) << 16 | Int(line[start + 1] | 0x20) << 8 | Int(line[start + 2] | 0x20)
        return months[key]
    }

    /// Whether a three-letter weekday abbreviation starts at `start`.
    static func isWeekday(_ line: Span<UInt8>, _ start: Int) -> Bool {
        guard start + 3 <= line.count else { return false }
        let key = Int(line[start] | 0x20) << 16 | Int(line[start + 1] | 0x20) << 8 | Int(line[start + 2] | 0x20)
        return weekdays.contains(key)
    }

    private static func key(_ name: String) -> Int {
        let b = Array(name.utf8)
        return Int(b[0]) << 16 | Int(b[1]) << 8 | Int(b[2])
    }

    private static let months: [Int: Int] = {
        var table: [Int: Int] = [:]
        for (index, name) in ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            .enumerated()
        {
            table[key(name)] = index + 1
        }
        return table
    }()

    private static let weekdays: Set<Int> = Set(["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map(key))
}
