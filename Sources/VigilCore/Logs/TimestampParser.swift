// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Reads the timestamps log headers use, without knowing the format in advance.
///
/// It accepts ISO 8601 (`2024-10-10T13:55:36.123Z`, `2024-10-10 13:55:36,123`), syslog (`Jun 14 15:16:01`),
/// Apache (`Sun Dec 04 04:47:44 2005`, `10/Oct/2000:13:55:36 -0700`), compact dates (`081109 203615`,
/// `17/06/09 20:10:40`, `03-17 16:13:38.811`, klog's `I1010 13:55:36.123456`), dotted dates
/// (`2005-06-03-15.42.50.675872`) and Unix epochs in seconds, milliseconds, microseconds or nanoseconds.
/// Dates without a year get `defaultYear`; a time of day alone is read by ``timeOfDay(_:)``.
public enum TimestampParser {
    private struct Group {
        var value: Int64
        var digits: Int
        var separatorBefore: UInt8
        var separatorAfter: UInt8

        static let none = Group(value: 0, digits: 0, separatorBefore: 0, separatorAfter: 0)
    }

    /// Up to ``capacity`` groups, held inline: a timestamp is parsed per log line, and an array per parse (and
    /// one per date and clock part) was most of its cost. Groups past the capacity are dropped: no layout has
    /// that many numbers.
    private struct Groups {
        static let capacity = 16
        private var items = InlineArray<16, Group>(repeating: .none)  // 16 = capacity
        private(set) var count = 0

        var isEmpty: Bool { self.count == 0 }

        subscript(index: Int) -> Group {
            get { self.items[index] }
            set { self.items[index] = newValue }
        }

        mutating func append(_ group: Group) {
            guard self.count < Self.capacity else { return }
            self.items[self.count] = group
            self.count += 1
        }

        /// The index of the first group in `range` (all of them by default) that satisfies `predicate`.
        func firstIndex(in range: Range<Int>? = nil, where predicate: (Group) -> Bool) -> Int? {
            let range = range ?? 0..<self.count
            for index in range where predicate(self.items[index]) { return index }
            return nil
        }
    }

    /// The numeric groups of a date part (before the time of day), but for a year found among them: how many there
    /// are, and the first three, all a date is read from.
    private struct DateGroups {
        private(set) var count = 0
        private var items = InlineArray<3, Group>(repeating: .none)

        var first: Group? { self.count > 0 ? self.items[0] : nil }
        subscript(index: Int) -> Group { self.items[index] }

        mutating func append(_ group: Group) {
            if self.count < 3 { self.items[self.count] = group }
            self.count += 1
        }
    }

    /// A time of day: hour, minute, second and the fraction's group, 0 and nil where the layout has none.
    private typealias Clock = (hour: Int64, minute: Int64, second: Int64, fraction: Group?)

    /// The time of day in `groups[range]`: hour, minute, second and fraction, in that order.
    private static func clock(_ groups: Groups, _ range: Range<Int>) -> Clock {
        let count = range.count
        let start = range.lowerBound
        return (
            count > 0 ? groups[start].value : 0, count > 1 ? groups[start + 1].value : 0,
            count > 2 ? groups[start + 2].value : 0, count > 3 ? groups[start + 3] : nil
        )
    }

    /// Parses `text` (the time fields of a header, joined by spaces), or returns `nil`.
    public static func parse(_ text: Span<UInt8>, defaultYear: Int64 = 1970) -> Timestamp? {
        var groups = Groups()
        var month: Int64?
        var offsetSeconds: Int64 = 0
        var index = 0
        var previousSeparator: UInt8 = 0
        var sawColon = false
        /// A 12-hour clock's `PM` (true) or `AM` (false).
        var afternoon: Bool?
        let count = text.count
        while index < count {
            let byte = text[index]
            if ByteClass.isDigit(byte) {
                var wide: UInt64 = 0
                var digits = 0
                while index < count && ByteClass.isDigit(text[index]) {
                    if digits < 19 { wide = wide * 10 + UInt64(text[index] &- 0x30) }  // 19 digits fit a UInt64
                    digits += 1
                    index += 1
                }
                // Too large for an Int64: -1 fails every later range check.
                let value = wide > UInt64(Int64.max) ? -1 : Int64(wide)
                // A zone offset: `+0200`, `-07:00`, only once a time of day has been read.
                if sawColon && (previousSeparator == UInt8(ascii: "+") || previousSeparator == UInt8(ascii: "-"))
                    && groups.count >= 3 && (digits == 4 || digits == 2)
                {
                    var hours = digits == 4 ? value / 100 : value
                    var minutes = digits == 4 ? value % 100 : 0
                    if digits == 2 && index + 2 < count && text[index] == UInt8(ascii: ":") {
                        minutes = Int64(text[index + 1] &- 0x30) * 10 + Int64(text[index + 2] &- 0x30)
                        index += 3
                    }
                    if hours > 14 { hours = 0 }
                    let sign: Int64 = previousSeparator == UInt8(ascii: "+") ? 1 : -1
                    offsetSeconds = sign * (hours * 3600 + minutes * 60)
                    previousSeparator = 0
                    continue
                }
                if !groups.isEmpty { groups[groups.count - 1].separatorAfter = previousSeparator }
                groups.append(
                    Group(value: value, digits: digits, separatorBefore: previousSeparator, separatorAfter: 0)
                )
                previousSeparator = 0
            } else if ByteClass.isLetter(byte) {
                let start = index
                while index < count && ByteClass.isLetter(text[index]) { index += 1 }
                if index - start == 2, let isPM = MonthName.meridiem(text, start) {
                    afternoon = isPM
                } else if let number = MonthName.number(text, start), month == nil {
                    month = Int64(number)
                }
                if byte == UInt8(ascii: "T") || byte == UInt8(ascii: "Z") { previousSeparator = byte }
            } else {
                if byte == UInt8(ascii: ":") { sawColon = true }
                if previousSeparator == 0 || byte != UInt8(ascii: " ") { previousSeparator = byte }
                index += 1
            }
        }
        guard !groups.isEmpty else { return nil }
        if let epoch = Self.epoch(groups[0]), groups.count == 1 || month == nil && groups[0].digits >= 10 {
            return epoch
        }
        return Self.civil(groups, month: month, afternoon: afternoon, defaultYear: defaultYear).map {
            Timestamp(nanoseconds: $0.nanoseconds - offsetSeconds * 1_000_000_000)
        }
    }

    /// Nanoseconds since midnight of a time of day with no date (logback's default `16:50:01.757`, `16:50:01,757`,
    /// `16:50:01`), or `nil` for any other text.
    public static func timeOfDay(_ text: Span<UInt8>) -> Int64? {
        let count = text.count
        var index = 0
        /// Reads one or two digits (the hour) or exactly two (minutes, seconds).
        func field(allowingOne: Bool) -> Int64? {
            let start = index
            while index < count && index - start < 3 && ByteClass.isDigit(text[index]) { index += 1 }
            let digits = index - start
            guard digits == 2 || (allowingOne && digits == 1) else { return nil }
            var value: Int64 = 0
            for offset in start..<index { value = value * 10 + Int64(text[offset] &- 0x30) }
            return value
        }
        guard let hour = field(allowingOne: true), hour < 24, index < count, text[index] == UInt8(ascii: ":") else {
            return nil
        }
        index += 1
        guard let minute = field(allowingOne: false), minute < 60, index < count, text[index] == UInt8(ascii: ":")
        else { return nil }
        index += 1
        guard let second = field(allowingOne: false), second < 61 else { return nil }
        var nanos: Int64 = 0
        if index < count {
            guard text[index] == UInt8(ascii: ".") || text[index] == UInt8(ascii: ","), index + 1 < count else {
                return nil
            }
            index += 1
            var scale: Int64 = 100_000_000
            while index < count {
                guard ByteClass.isDigit(text[index]) else { return nil }
                nanos += Int64(text[index] &- 0x30) * scale
                scale /= 10
                index += 1
            }
        }
        return (hour * 3600 + minute * 60 + second) * 1_000_000_000 + nanos
    }

    /// Epoch seconds, milliseconds, microseconds or nanoseconds between 1990 and 2200.
    private static func epoch(_ group: Group) -> Timestamp? {
        let scale: Int64
        switch group.digits {
        case 10: scale = 1_000_000_000
        case 13: scale = 1_000_000
        case 16: scale = 1000
        case 19: scale = 1
        default: return nil
        }
        let (nanoseconds, overflow) = group.value.multipliedReportingOverflow(by: scale)
        guard !overflow, nanoseconds >= 631_152_000_000_000_000, nanoseconds < 7_258_118_400_000_000_000 else {
            return nil
        }
        return Timestamp(nanoseconds: nanoseconds)
    }

    /// Reads year, month and day from the numeric groups before the time of day.
    private static func date(from date: DateGroups, year: Int64?, month: Int64?) -> (Int64?, Int64?, Int64?) {
        if month != nil { return (year, month, date.first?.value) }
        switch (date.count, date.first?.digits) {
        case (1, 8): return (date[0].value / 10_000, date[0].value / 100 % 100, date[0].value % 100)  // 20241010
        case (1, 6): return (2000 + date[0].value / 10_000, date[0].value / 100 % 100, date[0].value % 100)  // 241010
        case (3, _): return (year ?? 2000 + date[0].value, date[1].value, date[2].value)  // 17/06/09
        case (2, _): return (year, date[0].value, date[1].value)  // 03-17
        default: return (year, nil, nil)
        }
    }

    private static func civil(
        _ groups: Groups,
        month namedMonth: Int64?,
        afternoon: Bool?,
        defaultYear: Int64
    ) -> Timestamp? {
        var year: Int64?
        var month = namedMonth
        var day: Int64?
        var clock: Clock = (0, 0, 0, nil)
        // The time of day starts at the first short group followed by a colon.
        if let timeStart = groups.firstIndex(where: { $0.digits <= 2 && $0.separatorAfter == UInt8(ascii: ":") }) {
            var clockEnd = groups.count
            // A year after the time (`Sun Dec 04 04:47:44 2005`).
            if let trailingYear = groups.firstIndex(
                in: min(timeStart + 3, groups.count)..<groups.count,
                where: { $0.digits == 4 && $0.separatorBefore == 0x20 }
            ) {
                year = groups[trailingYear].value
                clockEnd = trailingYear
            }
            clock = Self.clock(groups, timeStart..<clockEnd)
            if month == nil && timeStart == 1 && groups[0].digits == 4 && (101...1231).contains(groups[0].value) {
                month = groups[0].value / 100  // klog `I1010`: month and day
                day = groups[0].value % 100
            } else {
                let yearIndex = groups.firstIndex(in: 0..<timeStart) { $0.digits == 4 }
                if let yearIndex { year = groups[yearIndex].value }
                var date = DateGroups()
                for index in 0..<timeStart where index != yearIndex { date.append(groups[index]) }
                (year, month, day) = Self.date(from: date, year: year, month: month)
            }
        } else if groups.count >= 6 && groups[0].digits == 4 {
            year = groups[0].value  // 2005-06-03-15.42.50.675872
            month = groups[1].value
            day = groups[2].value
            clock = Self.clock(groups, 3..<groups.count)
        } else if groups.count >= 2 && groups[0].digits == 6 && groups[1].digits == 6 {
            year = 2000 + groups[0].value / 10_000  // 081109 203615
            month = groups[0].value / 100 % 100
            day = groups[0].value % 100
            let hms = groups[1].value
            clock = (hms / 10_000, hms / 100 % 100, hms % 100, groups.count > 2 ? groups[2] : nil)
        } else if groups.count >= 3 && groups[0].digits == 4 {
            year = groups[0].value
            month = groups[1].value
            day = groups[2].value
        } else {
            return nil
        }
        guard let month, let day, (1...12).contains(month), (1...31).contains(day) else { return nil }
        let resolvedYear = year ?? defaultYear
        // Log years outside 1970–2200 are misreads; the bound also keeps differences of timestamps in an Int64.
        guard (1970...2200).contains(resolvedYear) else { return nil }
        var hour = clock.hour
        // A 12-hour clock: 12:30 AM is half past midnight, 1:30 PM is 13:30.
        if let afternoon, (1...12).contains(hour) { hour = hour % 12 + (afternoon ? 12 : 0) }
        let (minute, second) = (clock.minute, clock.second)
        guard (0..<25).contains(hour), (0..<60).contains(minute), (0..<61).contains(second) else { return nil }
        var nanos: Int64 = 0
        if let fraction = clock.fraction {
            nanos = fraction.digits <= 9 ? fraction.value : 0
            var digits = fraction.digits <= 9 ? fraction.digits : 9
            while digits < 9 {
                nanos *= 10
                digits += 1
            }
            while digits > 9 {
                nanos /= 10
                digits -= 1
            }
        }
        let days = CivilDate.days(year: resolvedYear, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
        return Timestamp(nanoseconds: seconds * 1_000_000_000 + nanos)
    }
}
