import LeadModel
import Synchronization

/// What is read from an offer once and used for every lead scored against it (the scorer's
/// reading of the ICP, the signal detector): leads come in runs of one offer.
///
/// Found by the offer's id, and kept only while the offer is equal to the one it was made from:
/// an updated offer is read again. The comparison is cheap for the offer the offers table keeps
/// handing out, whose strings and arrays are the very ones compared. At most `capacity` offers
/// are kept; past that the cache starts again.
public final class PerOffer<Value: Sendable>: Sendable {
    private let capacity: Int
    private let make: @Sendable (OfferConfig) -> Value
    private let byID = Mutex<[OfferID: (offer: OfferConfig, value: Value)]>([:])

    public init(capacity: Int = 32, _ make: @escaping @Sendable (OfferConfig) -> Value) {
        self.capacity = capacity
        self.make = make
    }

    /// The value made from `offer`, made now if the cache has none for this offer as it is.
    public func value(for offer: OfferConfig) -> Value {
        if let kept = byID.withLock({ $0[offer.offerID] }), kept.offer == offer { return kept.value }
        let value = make(offer)  // outside the lock: making one can take a while
        byID.withLock { byID in
            if byID.count >= capacity && byID[offer.offerID] == nil { byID.removeAll() }
            byID[offer.offerID] = (offer, value)
        }
        return value
    }
}
