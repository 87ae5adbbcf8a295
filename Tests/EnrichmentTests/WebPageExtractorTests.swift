import Enrichment
import Foundation
import LeadModel
import XCTest

final class WebPageExtractorTests: XCTestCase {
    let page = URL(string: "https://acme.example/about/")!

    func testReadsMetaTagsInAnyCaseAndQuoting() {
        let html = """
            <!DOCTYPE html><HTML><head>
            <META PROPERTY='og:site_name' CONTENT="Acme &amp; Sons">
            <meta name=description content=Plain>
            <meta property="og:description" content="We make &lt;anvils&gt; &#8211; fast&#x21;">
            <meta name="twitter:site" content="@acme_inc">
            <meta property="og:image" content="/img/logo.png">
            <title>  Acme | Home  </title>
            </head><body></body></HTML>
            """
        let facts = WebPageExtractor().extract(html: html, pageURL: page)
        XCTAssertEqual(facts.name, "Acme & Sons")
        XCTAssertEqual(facts.description, "We make <anvils> – fast!")
        XCTAssertEqual(facts.xHandle, "acme_inc")
        XCTAssertEqual(facts.imageURL, "https://acme.example/img/logo.png")
    }

    func testJSONLDOrganizationWinsAndGraphIsSearched() {
        let html = """
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
              {"@type":"WebSite","name":"Acme site"},
              {"@type":["Thing","Organization"],"name":"Acme Corporation","description":"Anvils\\n  for   everyone",
               "logo":{"@type":"ImageObject","url":"https://cdn.acme.example/logo.svg"},
               "sameAs":["https://www.linkedin.com/company/acme/","https://twitter.com/acme?ref=site"]}]}</script>
            <meta property="og:site_name" content="Not this">
            <script>var html = "<meta property='og:description' content='inside a script'>";</script>
            """
        let facts = WebPageExtractor().extract(html: html, pageURL: page)
        XCTAssertEqual(facts.name, "Acme Corporation")
        XCTAssertEqual(facts.description, "Anvils for everyone")
        XCTAssertEqual(facts.imageURL, "https://cdn.acme.example/logo.svg")
        XCTAssertEqual(facts.socialLinks, ["https://linkedin.com/company/acme", "https://twitter.com/acme"])
    }

    func testSurvivesBrokenMarkupAndIgnoresCommentsAndShareLinks() {
        let html = """
            <!-- <meta property="og:title" content="commented out"> -->
            <meta property="og:title" content="Acme <b>bold</b>
            <a href="https://twitter.com/intent/tweet?text=hi">share</a>
            <a href='https://www.facebook.com/acmeanvils'>fb</a><a href="https://github.com/">gh home</a>
            <a href=https://x.com/acme>x</a>
            <script type="application/ld+json">{ not json </script>
            <div <<< = "" ="x" title
            """
        let facts = WebPageExtractor().extract(html: html, pageURL: page)
        XCTAssertEqual(facts.socialLinks, ["https://facebook.com/acmeanvils", "https://x.com/acme"])
        XCTAssertNotEqual(facts.name, "commented out")
    }

    func testTruncatedAndEmptyDocuments() {
        XCTAssertEqual(WebPageExtractor().extract(html: "", pageURL: nil), WebPageFacts())
        let truncated = WebPageExtractor().extract(html: "<title>Acme", pageURL: nil)
        XCTAssertNil(truncated.name)  // no closing tag: nothing trustworthy
        let cut = WebPageExtractor().extract(html: "<meta property=\"og:site_name\" content=\"Ac", pageURL: nil)
        XCTAssertEqual(cut.name, "Ac")
        let long = WebPageExtractor(maxTextLength: 10).extract(html: "<meta name=description content=\"\(String(repeating: "a", count: 50))\">", pageURL: nil)
        XCTAssertEqual(long.description?.count, 10)
    }

    /// Texts are cut by Unicode scalars, as every reader bounds them: a letter followed by
    /// 20,000 combining marks is one Character, and cut by Characters it stayed whole, over the
    /// coordinator's field limit, so the enrichment was dead-lettered (a hostile page's
    /// `og:title` lost its domain's enrichment).
    func testATextIsCutByScalarsNotCharacters() {
        let stacked = "A" + String(repeating: "\u{0301}", count: 20_000)
        let facts = WebPageExtractor().extract(html: "<meta property=\"og:site_name\" content=\"\(stacked)\">", pageURL: nil)
        XCTAssertLessThanOrEqual(facts.name?.unicodeScalars.count ?? 0, 1_000)
    }

    /// A page can hold a 1 MB image URL or thousands of profile links; kept whole, they made the
    /// lead's finalize request and pool entry too large to write on every attempt, and the lead
    /// never became ready. A URL over ``FieldLimit/url`` is not kept (the next image candidate
    /// is), and at most ``WebEnrichment/maxSocialLinks`` links are, the first in order.
    func testLongURLsAreDroppedAndSocialLinksBounded() {
        let long = "https://acme.example/" + String(repeating: "a", count: 5_000)
        let links = (0..<300).map { "<a href=\"https://github.com/acme-\(1000 + $0)\">gh</a>" }.joined()
        let html = """
            <meta property="og:image" content="\(long)">
            <meta name="twitter:image" content="https://acme.example/card.png">
            <a href="https://x.com/\(String(repeating: "b", count: 5_000))">x</a>
            \(links)
            """
        let facts = WebPageExtractor().extract(html: html, pageURL: page)
        XCTAssertEqual(facts.imageURL, "https://acme.example/card.png")
        XCTAssertEqual(facts.socialLinks.count, WebEnrichment.maxSocialLinks)
        XCTAssertEqual(facts.socialLinks.first, "https://github.com/acme-1000")
        XCTAssertTrue(facts.socialLinks.allSatisfy { $0.count <= FieldLimit.url })
    }
}

final class WebAllowListTests: XCTestCase {
    func testOnlyHTTPSOnTheDomain() throws {
        let list = try WebAllowList(domain: "www.Acme.example")
        XCTAssertEqual(list.domain, "acme.example")
        XCTAssertNil(list.check(URL(string: "https://acme.example/about")!))
        XCTAssertNil(list.check(URL(string: "https://www.acme.example/")!))
        XCTAssertNotNil(list.check(URL(string: "http://acme.example/")!))
        XCTAssertNotNil(list.check(URL(string: "https://evil.example/")!))
        XCTAssertNotNil(list.check(URL(string: "https://acme.example.evil.example/")!))
        XCTAssertNotNil(list.check(URL(string: "https://shop.acme.example/")!))
        XCTAssertNotNil(list.check(URL(string: "https://user:pw@acme.example/")!))
        XCTAssertNotNil(list.check(URL(string: "https://acme.example:8443/")!))
        XCTAssertEqual(try list.startURL(nil).absoluteString, "https://acme.example/")
        XCTAssertThrowsError(try list.startURL("https://other.example/"))
    }

    func testRefusesIPAndLoopbackUnlessAllowedForTests() {
        XCTAssertThrowsError(try WebAllowList(domain: "127.0.0.1"))
        XCTAssertThrowsError(try WebAllowList(domain: "10.0.0.1"))
        XCTAssertThrowsError(try WebAllowList(domain: "localhost"))
        XCTAssertThrowsError(try WebAllowList(domain: "acme"))
        XCTAssertThrowsError(try WebAllowList(domain: "acme.example/path?x"))
        XCTAssertThrowsError(try WebAllowList(domain: ""))
        let test = try? WebAllowList(domain: "127.0.0.1", isLoopbackHTTPAllowed: true)
        XCTAssertNil(test?.check(URL(string: "http://127.0.0.1:8080/")!))
        XCTAssertNotNil(test?.check(URL(string: "http://127.0.0.2:8080/")!))
    }

    func testHandlerRefusesWithoutFetching() async {
        let handler = WebEnricherHandler(fetcher: WebFetcher())
        let record = await handler.handle(.init(leadID: "lead-1", domain: "10.1.2.3", requestedAt: Date()), now: Date())
        XCTAssertEqual(record?.status, .refused)
        let other = await handler.handle(.init(leadID: "lead-1", domain: "acme.example", url: "https://evil.example/",
                                               requestedAt: Date()), now: Date())
        XCTAssertEqual(other?.status, .refused)
    }
}
