import Synchronization

/// A list other threads append to and one loop drains: how callbacks and worker tasks hand
/// values to a service's run loop without sharing its state.
public final class Mailbox<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    public init() {}

    public func append(_ element: Element) {
        items.withLock { $0.append(element) }
    }

    /// Everything appended since the last drain, in order.
    public func drain() -> [Element] {
        items.withLock { items in
            defer { items.removeAll() }
            return items
        }
    }
}
