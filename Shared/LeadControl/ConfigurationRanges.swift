import JSONCodec
import LeadModel

/// A number of a configuration that means something only within a range, the range
/// docs/schemas publishes for it (a test holds the two together).
public struct FieldRange: Sendable, Hashable {
    /// The field's path (`autopilot.minimumFit`); `[]` stands for each element of an array
    /// (`outreachWindow.weekdays[]`).
    public let path: String
    /// The smallest value allowed.
    public let minimum: Double
    /// The largest value allowed; nil for no bound.
    public let maximum: Double?
    /// What the number is, and what the pipeline makes of one outside the range, for the error.
    public let meaning: String

    /// Why `value`, written `text` at `place` (the path with its indices), is refused; nil when
    /// it lies within the range.
    func problem(_ value: Double, written text: String, at place: String) -> String? {
        guard value < minimum || maximum.map({ value > $0 }) == true else { return nil }
        let allowed = maximum.map { "\(Self.format(minimum)) to \(Self.format($0))" } ?? "\(Self.format(minimum)) or more"
        return "\"\(place)\" is \(text); it must be \(allowed): \(meaning)"
    }

    /// A bound as a person writes it: `100`, not `100.0`.
    private static func format(_ bound: Double) -> String {
        bound == bound.rounded() && abs(bound) < 1e15 ? String(Int(bound)) : String(bound)
    }
}

/// The ranges `account put` and `offer put` hold a configuration's numbers to before anything is
/// sent. The services read a configuration as it comes (their own rules refuse only hours,
/// weekdays and a confidence outside theirs), and a number out of range reads as a setting
/// that does nothing or stops everything: a minimum fit of 150 enrolls no lead, ever.
public enum ConfigurationRanges {
    /// An account's (`account.config`).
    public static let account = [
        FieldRange(path: "outreachWindow.weekdays[]", minimum: 1, maximum: 7, meaning: "ISO weekdays, 1 Monday to 7 Sunday"),
        FieldRange(path: "outreachWindow.startHour", minimum: 0, maximum: 23,
                   meaning: "the hour the outreach window opens, in its time zone"),
        FieldRange(path: "outreachWindow.endHour", minimum: 1, maximum: 24,
                   meaning: "the hour the outreach window closes (24: at midnight)"),
        FieldRange(path: "autopilot.minimumFit", minimum: 0, maximum: 100,
                   meaning: "fit scores run 0 to 100: above 100 autopilot would enroll no lead, below 0 it is no minimum"),
        FieldRange(path: "autopilot.minimumIntent", minimum: 0, maximum: 100,
                   meaning: "intent scores run 0 to 100: above 100 autopilot would enroll no lead, below 0 it is no minimum"),
        FieldRange(path: "profileFinder.minimumConfidence", minimum: 0, maximum: 1,
                   meaning: "a candidate profile's confidence runs 0 to 1: above 1 none would be accepted"),
    ]

    /// An offer's (`offer.config`).
    public static let offer = [
        FieldRange(path: "icp.minimumEmployees", minimum: 0, maximum: nil,
                   meaning: "a head count: below 0 it bounds nothing, and still counts as a size constraint in the fit"),
        FieldRange(path: "icp.maximumEmployees", minimum: 0, maximum: nil,
                   meaning: "a head count: below 0 no company would fit the size"),
    ]

    /// The ranges of the configuration `T`; none for another message.
    public static func ranges<T: Message>(of type: T.Type) -> [FieldRange] {
        switch T.schemaName {
        case AccountConfig.schemaName: account
        case OfferConfig.schemaName: offer
        default: []
        }
    }

    /// Why the JSON object `bytes`, a `T` as a file gives it, has a number out of its range, for
    /// the first such number; nil when it has none. A value that is not a number (a string,
    /// null) is left to the decoder, which says what is wrong with it.
    public static func problem<T: Message>(in bytes: [UInt8], of type: T.Type) -> String? {
        for range in ranges(of: T.self) {
            let components = range.path.split(separator: ".")
            for (place, text) in numbers(at: components[...], in: bytes, place: "") {
                if let value = Double(text), let problem = range.problem(value, written: text, at: place) { return problem }
            }
        }
        return nil
    }

    /// The values at `path` in the JSON object `bytes`, as written, each with its place.
    private static func numbers(at path: ArraySlice<Substring>, in bytes: [UInt8], place: String) -> [(place: String, text: String)] {
        guard let first = path.first else { return [(place, String(decoding: bytes, as: UTF8.self))] }
        let isEach = first.hasSuffix("[]")
        let name = String(isEach ? first.dropLast(2) : first)
        guard let value = RawJSON.members(of: bytes)?.first(where: { $0.name == name })?.value else { return [] }
        let here = place.isEmpty ? name : "\(place).\(name)"
        guard isEach else { return numbers(at: path.dropFirst(), in: value.bytes, place: here) }
        guard let elements = try? JSONIndexDecoder.decode([RawJSON].self, from: value.bytes) else { return [] }
        return elements.enumerated().flatMap { index, element in numbers(at: path.dropFirst(), in: element.bytes, place: "\(here)[\(index)]") }
    }
}
