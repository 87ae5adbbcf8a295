import Foundation

/// ISO-8601 date-times in UTC with milliseconds, exact to the millisecond.
///
/// A `Date` is a `Double` of seconds, so `.430` is stored a hair below it; a formatter that
/// truncates then writes `.429`, and every re-encode loses a millisecond. Here both directions go
/// through a whole number of milliseconds: ``format(_:)`` rounds to the nearest millisecond and
/// ``parse(_:)`` builds the `Date` from one, so `parse(format(d))` formats as `format(d)` and a
/// parsed text formats back to itself (with its fraction written as three digits).
///
/// Years are four digits (0000-9999) in the proleptic Gregorian calendar, as RFC 3339 has them;
/// ``format(_:)`` clamps dates outside that range to its ends.
public enum ISO8601 {
    /// Milliseconds from 1970-01-01 to 2001-01-01, `Date`'s reference date.
    private static let referenceOffset: Int64 = 978_307_200_000
    private static let millisecondsPerDay: Int64 = 86_400_000
    /// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z, in milliseconds since 1970.
    private static let earliest = days(year: 0, month: 1, day: 1) * millisecondsPerDay
    private static let latest = days(year: 10_000, month: 1, day: 1) * millisecondsPerDay - 1

    /// Formats as `2025-01-31T12:00:00.000Z`, rounded to the nearest millisecond.
    public static func format(_ date: Date) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(24)
        write(date, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends ``format(_:)``'s 24 bytes to `output`, without making a string: the encoders write
    /// every date this way.
    public static func write(_ date: Date, to output: inout [UInt8]) {
        let milliseconds = milliseconds(date)
        let day = milliseconds.floorDivided(by: millisecondsPerDay)
        let ofDay = milliseconds - day * millisecondsPerDay
        let (year, month, dayOfMonth) = civil(days: day)
        func digits(_ value: Int64, _ count: Int, then separator: UInt8) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                output.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
            output.append(separator)
        }
        digits(year, 4, then: UInt8(ascii: "-"))
        digits(month, 2, then: UInt8(ascii: "-"))
        digits(dayOfMonth, 2, then: UInt8(ascii: "T"))
        digits(ofDay / 3_600_000, 2, then: UInt8(ascii: ":"))
        digits(ofDay % 3_600_000 / 60_000, 2, then: UInt8(ascii: ":"))
        digits(ofDay % 60_000 / 1_000, 2, then: UInt8(ascii: "."))
        digits(ofDay % 1_000, 3, then: UInt8(ascii: "Z"))
    }

    /// The UTC day of `date` that ``format(_:)`` writes: `(2025, 1, 31)` for
    /// `2025-01-31T12:00:00.000Z`.
    public static func day(of date: Date) -> (year: Int, month: Int, day: Int) {
        let (year, month, day) = civil(days: milliseconds(date).floorDivided(by: millisecondsPerDay))
        return (Int(year), Int(month), Int(day))
    }

    /// Milliseconds since 1970, rounded and clamped to the years ``format(_:)`` can write.
    private static func milliseconds(_ date: Date) -> Int64 {
        let exact = (date.timeIntervalSinceReferenceDate * 1000).rounded()
        let fromReference = exact.isNaN ? 0 : Int64(exactly: exact.clamped(to: -4e14...4e14)) ?? 0
        return min(max(fromReference + referenceOffset, earliest), latest)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`; a fraction is rounded to the
    /// nearest millisecond. Nil if the text is not such a date-time or names an impossible one
    /// (month 13, February 30, hour 24).
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8(parse)
    }

    /// ``parse(_:)`` on the text's UTF-8 bytes (a JSON string's, read where it lies).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var position = 0
        func number(_ count: Int) -> Int64? {
            guard position + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<count {
                let byte = bytes[position]
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
                position += 1
            }
            return value
        }
        func skip(_ allowed: String) -> Bool {
            guard position < bytes.count, allowed.utf8.contains(bytes[position]) else { return false }
            position += 1
            return true
        }
        guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2), skip("Tt"),
              let hour = number(2), skip(":"), let minute = number(2), skip(":"), let second = number(2),
              (1...12).contains(month), (1...daysInMonth(year: year, month: month)).contains(day),
              hour < 24, minute < 60, second < 60 else { return nil }
        var milliseconds = ((hour * 60 + minute) * 60 + second) * 1000
        if skip(".") {
            let firstDigit = position
            var fraction: Int64 = 0
            var scale: Int64 = 100
            var roundsUp = false
            while let digit = number(1) {
                if scale > 0 {
                    fraction += digit * scale
                    scale /= 10
                } else if position - firstDigit == 4 {
                    roundsUp = digit >= 5
                }
            }
            guard position > firstDigit else { return nil }
            milliseconds += fraction + (roundsUp ? 1 : 0)
        }
        if !skip("Zz") {
            guard position < bytes.count else { return nil }
            let sign: Int64 = bytes[position] == UInt8(ascii: "-") ? -1 : 1
            guard skip("+-"), let offsetHours = number(2) else { return nil }
            _ = skip(":")
            guard let offsetMinutes = number(2), offsetHours < 24, offsetMinutes < 60 else { return nil }
            milliseconds -= sign * (offsetHours * 60 + offsetMinutes) * 60_000
        }
        guard position == bytes.count else { return nil }
        let sinceEpoch = days(year: year, month: month, day: day) * millisecondsPerDay + milliseconds
        return Date(timeIntervalSinceReferenceDate: Double(sinceEpoch - referenceOffset) / 1000)
    }

    private static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to the date (Howard Hinnant's `days_from_civil`).
    private static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let year = month <= 2 ? year - 1 : year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    private static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    /// The quotient rounded toward negative infinity.
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

extension Double {
    fileprivate func clamped(to range: ClosedRange<Double>) -> Double {
        Swift.min(Swift.max(self, range.lowerBound), range.upperBound)
    }
}
