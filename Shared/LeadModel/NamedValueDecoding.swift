/// Decoding a value named by a string (`"billingState": "paused"`): a name that is none of the
/// type's says so with the names there are. The standard library's default said it in Swift's
/// words (`Cannot initialize BillingState from invalid String value Paused`), which reached
/// `leadctl`'s errors and the dead letters without the values allowed. The codec puts the field's
/// path in front (`invalid value for field "billingState": "Paused" is not one of: active, paused`).
extension Decodable where Self: RawRepresentable & CaseIterable, Self.RawValue == String {
    /// Decodes the name; one that is none of `allCases`' raw values is data corrupted at the
    /// value's path, the description naming the value and the names allowed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let value = Self(rawValue: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: Self.unknownName(name))
        }
        self = value
    }
}

extension RawRepresentable where Self: CaseIterable, Self.RawValue == String {
    /// Why `name` is none of the type's names, with the names there are:
    /// `"Paused" is not one of: active, paused`.
    public static func unknownName(_ name: String) -> String {
        "\"\(name)\" is not one of: \(allCases.map(\.rawValue).joined(separator: ", "))"
    }
}
