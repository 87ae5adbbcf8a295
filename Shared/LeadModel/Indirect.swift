/// A stored property kept on the heap: copies of the value holding it share one box until one of
/// them changes it (copy on write, as `Array` does).
///
/// For the large values nested in the coordinator's hot types. An ``EnrichedProfile`` takes
/// 944 bytes inline, and before this a ``LeadState`` held three of them (its profile, its run's
/// base and its lead's pool profile), 3,184 bytes that every copy of a state, of a phase request
/// and of the state machine's actions moved and retained field by field. Behind `@Indirect` such
/// a field takes one pointer. Reading goes through the box without copying the value out;
/// changing it in place copies the value only when another copy shares the box.
///
/// Equality and hashing are the value's: two boxes are equal when their values are.
@propertyWrapper
public struct Indirect<Value> {
    private final class Box {
        var value: Value
        init(_ value: Value) { self.value = value }
    }

    private var box: Box

    /// Boxes `wrappedValue`.
    public init(wrappedValue: Value) {
        box = Box(wrappedValue)
    }

    /// The value.
    public var wrappedValue: Value {
        _read { yield box.value }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.value) }
            yield &box.value
        }
    }
}

// A box is changed only through `wrappedValue`'s `_modify`, after making it unique to this copy.
extension Indirect: @unchecked Sendable where Value: Sendable {}

extension Indirect: Equatable where Value: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.box === rhs.box || lhs.box.value == rhs.box.value
    }
}

extension Indirect: Hashable where Value: Hashable {
    public func hash(into hasher: inout Hasher) {
        hasher.combine(box.value)
    }
}
