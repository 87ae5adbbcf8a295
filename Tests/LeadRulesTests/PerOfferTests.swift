import Foundation
import LeadModel
import LeadRules
import Synchronization
import XCTest

/// What is read from an offer once: made again only for an offer that changed, kept per offer.
final class PerOfferTests: XCTestCase {
    func testAValueIsMadeOncePerOfferAsItIsAndAgainWhenTheOfferChanges() {
        let made = Mutex<[String]>([])
        let cache = PerOffer(capacity: 2) { offer -> String in
            made.withLock { $0.append("\(offer.offerID) \(offer.name)") }
            return offer.name
        }
        var offer = Fixtures.offer()
        let first = offer.name
        XCTAssertEqual(cache.value(for: offer), first)
        XCTAssertEqual(cache.value(for: offer), first)
        XCTAssertEqual(made.withLock { $0.count }, 1)

        offer.name = "renamed"  // the same id, updated: read again
        XCTAssertEqual(cache.value(for: offer), "renamed")
        XCTAssertEqual(cache.value(for: offer), "renamed")
        XCTAssertEqual(made.withLock { $0.count }, 2)

        var other = offer
        other.offerID = "offer-other"
        XCTAssertEqual(cache.value(for: other), "renamed")
        XCTAssertEqual(cache.value(for: offer), "renamed")
        XCTAssertEqual(made.withLock { $0.count }, 3, "two offers, two values")

        var third = offer
        third.offerID = "offer-third"  // past the capacity of 2: the cache starts again
        _ = cache.value(for: third)
        _ = cache.value(for: offer)
        XCTAssertEqual(made.withLock { $0 }.suffix(2), ["offer-third renamed", "\(offer.offerID) renamed"])
    }
}
