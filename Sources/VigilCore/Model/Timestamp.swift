// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A point in time as nanoseconds since the Unix epoch (UTC), the resolution OTLP and Loki use.
///
/// The core never reads a clock: every timestamp arrives inside the data.
public struct Timestamp: Sendable, Hashable, Comparable, Codable {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    public var nanoseconds: Int64

    /// Creates a timestamp from nanoseconds since the epoch.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// Creates a timestamp from (possibly fractional) seconds since the epoch, clamped to the representable
    /// range (years 1678–2261); not-a-number becomes the epoch.
    public init(seconds: Double) {
        let nanoseconds = (seconds * 1e9).rounded()
        if nanoseconds.isNaN {
            self.nanoseconds = 0
        } else if nanoseconds >= 9.2e18 {
            self.nanoseconds = Int64.max
        } else if nanoseconds <= -9.2e18 {
            self.nanoseconds = -Int64.max
        } else {
            self.nanoseconds = Int64(nanoseconds)
        }
    }

    /// Seconds since the epoch.
    public var seconds: Double { Double(self.nanoseconds) / 1e9 }

    /// Whole seconds since the epoch, rounded down (also before 1970).
    public var wholeSeconds: Int64 {
        let (seconds, remainder) = self.nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        return remainder < 0 ? seconds - 1 : seconds
    }

    /// The start of the minute this time falls in.
    public var minute: Int64 {
        let seconds = self.wholeSeconds
        return seconds - ((seconds % 60) + 60) % 60
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// The timestamp `seconds` later.
    public func adding(seconds: Double) -> Timestamp {
        Timestamp(nanoseconds: self.nanoseconds + Int64((seconds * 1e9).rounded()))
    }

    /// The civil UTC time as `YYYY-MM-DDTHH:MM:SS(.fff)Z`.
    public var iso8601: String {
        // Floor division without overflow, for any Int64 (years 1677–2262).
        let (seconds, remainder) = self.nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        let totalSeconds = remainder < 0 ? seconds - 1 : seconds
        let nanos = remainder < 0 ? remainder + 1_000_000_000 : remainder
        let (wholeDays, secondsLeft) = totalSeconds.quotientAndRemainder(dividingBy: 86_400)
        let days = secondsLeft < 0 ? wholeDays - 1 : wholeDays
        let secondOfDay = secondsLeft < 0 ? secondsLeft + 86_400 : secondsLeft
        let (year, month, day) = CivilDate.fromDays(days)
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
        text += "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        if nanos != 0 { text += ".\(pad(nanos / 1_000_000, 3))" }
        return text + "Z"
    }
}

private func pad(_ value: Int64, _ width: Int) -> String {
    let digits = String(value)
    return digits.utf8.count >= width ? digits : String(repeating: "0", count: width - digits.utf8.count) + digits
}

/// Conversions between civil (proleptic Gregorian) dates and days since the epoch.
enum CivilDate {
    /// Days since 1970-01-01 for a civil date (Howard Hinnant's `days_from_civil`).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
    static func fromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
