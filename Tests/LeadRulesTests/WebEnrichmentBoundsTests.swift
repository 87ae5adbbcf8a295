import Foundation
import LeadModel
import XCTest

/// What a `web.enrichment` record may carry: the coordinator merges it into the lead's profile,
/// which every later request and the pool entry carry, so a field without a bound could make
/// them too large to write on every attempt (the lead then never became ready).
final class WebEnrichmentBoundsTests: XCTestCase {
    let codec = MessageCodec()

    private func enrichment(imageURL: String? = nil, socialLinks: [String] = []) -> WebEnrichment {
        WebEnrichment(leadID: "lead-1", searchID: nil, domain: "acme.example", url: "https://acme.example", status: .completed,
                      name: "Acme", imageURL: imageURL, socialLinks: socialLinks, fetchedAt: Fixtures.now)
    }

    private func decodeError(_ enrichment: WebEnrichment) throws -> String? {
        let bytes = try codec.encode(enrichment)
        do {
            _ = try codec.decode(WebEnrichment.self, from: bytes)
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testALongURLOrTooManyLinksIsRefusedWithTheField() throws {
        let long = "https://acme.example/" + String(repeating: "a", count: FieldLimit.url)
        XCTAssertTrue(try decodeError(enrichment(imageURL: long))?.contains("imageURL") == true)
        XCTAssertTrue(try decodeError(enrichment(socialLinks: ["https://x.com/acme", long]))?.contains("socialLinks[1]") == true)
        let many = (0...WebEnrichment.maxSocialLinks).map { "https://github.com/acme-\($0)" }
        XCTAssertTrue(try decodeError(enrichment(socialLinks: many))?.contains("\(WebEnrichment.maxSocialLinks)") == true)
        XCTAssertNil(try decodeError(enrichment(imageURL: "https://acme.example/logo.png",
                                                socialLinks: Array(many.prefix(WebEnrichment.maxSocialLinks)))))
    }
}
