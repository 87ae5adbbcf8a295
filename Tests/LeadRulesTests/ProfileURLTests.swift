import Foundation
@testable import LeadModel
import XCTest

final class ProfileURLTests: XCTestCase {
    func testAcceptedLinkedInForms() throws {
        for text in [
            "https://www.linkedin.com/in/janedoe", "linkedin.com/in/janedoe", "www.linkedin.com/in/janedoe/",
            "http://linkedin.com/in/janedoe?utm_source=x", "HTTPS://WWW.LinkedIn.com/in/janedoe",
        ] {
            let url = try ProfileURL.linkedin(text).get()
            XCTAssertEqual(url.handle, "janedoe", text)
            XCTAssertEqual(url.canonical, "https://www.linkedin.com/in/janedoe")
        }
    }

    /// Country and mobile hosts, and LinkedIn's language path, name the same profile: search
    /// results link to uk.linkedin.com and m.linkedin.com, shares to mobile.twitter.com.
    func testCountryAndMobileHostsAndALanguagePathAreTheSameProfile() throws {
        for text in ["https://uk.linkedin.com/in/janedoe", "in.linkedin.com/in/janedoe/", "https://m.linkedin.com/in/janedoe",
                     "https://www.linkedin.com/in/janedoe/fr", "https://de.linkedin.com/in/janedoe/de?trk=x"] {
            XCTAssertEqual(try ProfileURL.linkedin(text).get().canonical, "https://www.linkedin.com/in/janedoe", text)
        }
        for text in ["https://mobile.twitter.com/janedoe", "https://mobile.x.com/janedoe", "m.twitter.com/janedoe"] {
            XCTAssertEqual(try ProfileURL.x(text).get().canonical, "https://x.com/janedoe", text)
        }
        XCTAssertEqual(failure(ProfileURL.linkedin("https://evil-linkedin.com/in/janedoe")), .wrongHost("evil-linkedin.com"))
        XCTAssertEqual(failure(ProfileURL.linkedin("https://linkedin.com.evil.io/in/janedoe")), .wrongHost("linkedin.com.evil.io"))
        XCTAssertEqual(failure(ProfileURL.linkedin("https://ads.linkedin.com/in/janedoe")), .wrongHost("ads.linkedin.com"))
        XCTAssertEqual(failure(ProfileURL.linkedin("https://www.linkedin.com/in/janedoe/french")), .notAProfilePath("/in/janedoe/french"))
    }

    func testRejectedLinkedInForms() {
        XCTAssertEqual(failure(ProfileURL.linkedin("https://www.linkedin.com/company/acme")), .notAProfilePath("/company/acme"))
        XCTAssertEqual(failure(ProfileURL.linkedin("https://www.linkedin.com/in/")), .notAProfilePath("/in"))
        XCTAssertEqual(failure(ProfileURL.linkedin("https://example.com/in/janedoe")), .wrongHost("example.com"))
        XCTAssertEqual(failure(ProfileURL.linkedin("https://x.com/janedoe")), .wrongHost("x.com"))
        XCTAssertEqual(failure(ProfileURL.linkedin("ftp://linkedin.com/in/janedoe")), .unsupportedScheme("ftp"))
        XCTAssertEqual(failure(ProfileURL.linkedin("")), .notAURL)
        XCTAssertNotNil(failure(ProfileURL.linkedin("https://linkedin.com/in/jane doe")))
        XCTAssertEqual(failure(ProfileURL.linkedin("https://linkedin.com/in/janedoe/details/skills")), .notAProfilePath("/in/janedoe/details/skills"))
    }

    func testXForms() throws {
        XCTAssertEqual(try ProfileURL.x("x.com/jane_doe").get().handle, "jane_doe")
        XCTAssertEqual(try ProfileURL.x("https://twitter.com/JaneDoe/").get().canonical, "https://x.com/JaneDoe")
        XCTAssertEqual(try ProfileURL.x("https://www.x.com/janedoe").get().handle, "janedoe")
        XCTAssertEqual(failure(ProfileURL.x("https://x.com/")), .notAProfilePath("/"))
        XCTAssertEqual(failure(ProfileURL.x("https://x.com/janedoe/status/1")), .notAProfilePath("/janedoe/status/1"))
        XCTAssertEqual(failure(ProfileURL.x("https://x.com/home")), .notAProfilePath("/home"))
        XCTAssertEqual(failure(ProfileURL.x("https://facebook.com/janedoe")), .wrongHost("facebook.com"))
        XCTAssertEqual(failure(ProfileURL.x("https://x.com/name-with-dash")), .invalidHandle("name-with-dash"))
        XCTAssertEqual(failure(ProfileURL.x("https://x.com/waytoolonghandle123")), .invalidHandle("waytoolonghandle123"))
    }

    func testLeadValidation() {
        XCTAssertNoThrow(try Fixtures.lead().validate())
        XCTAssertNoThrow(try Fixtures.lead(linkedin: nil).validate())
        XCTAssertThrowsError(try Fixtures.lead(linkedin: nil, x: nil).validate()) { error in
            XCTAssertEqual(error as? LeadValidationError, .missingProfileURL)
            XCTAssertTrue("\(error)".contains("linkedin.com/in/<handle>"))
        }
        XCTAssertThrowsError(try Fixtures.lead(linkedin: "https://linkedin.com/company/acme").validate()) { error in
            XCTAssertTrue("\(error)".contains("not a person's profile"), "\(error)")
        }
        XCTAssertThrowsError(try Fixtures.lead(mode: .reEnrich).validate()) { error in
            XCTAssertEqual(error as? LeadValidationError, .reEnrichWithoutTypes)
        }
        XCTAssertEqual(Fixtures.lead(x: "twitter.com/janedoe").availablePlatforms, [.linkedin, .x])
    }

    /// A name is blank when trimming white space and newlines leaves nothing, as Foundation trims.
    func testABlankNameIsRefusedAsFoundationWouldTrimIt() {
        for name in ["", " ", "\t\n\r", "\u{00A0}\u{3000}", "\u{200B}", "\u{2028}\u{85}", "Jane", " J ", "\u{200B}J", "é", "👩‍💼"] {
            var lead = Fixtures.lead()
            lead.name = name
            let blank = name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            XCTAssertEqual(name.isBlank, blank, name.debugDescription)
            if blank {
                XCTAssertThrowsError(try lead.validate(), name.debugDescription) { XCTAssertEqual($0 as? LeadValidationError, .emptyName) }
            } else {
                XCTAssertNoThrow(try lead.validate(), name.debugDescription)
            }
        }
    }

    private func failure(_ result: Result<ProfileURL, ProfileURL.Problem>) -> ProfileURL.Problem? {
        if case .failure(let problem) = result { return problem }
        return nil
    }
}

/// The byte-by-byte reading of plain URLs gives what `URLComponents` gives.
final class ProfileURLPlainFormTests: XCTestCase {
    func testThePlainFormReadsAsTheGeneralParseDoesAndEverythingElseFallsBack() throws {
        let plain = [
            "https://www.linkedin.com/in/janedoe", "http://linkedin.com/in/jane-doe_1.x~/", "https://x.com/JaneDoe",
            "https://twitter.com/jane_doe/", "https://www.linkedin.com//in//janedoe", "https://linkedin.com.",
            "https://www./in/janedoe", "https://example.com", "https://x.com/", "https://a-b.example.org/p/q/r",
            "https://www.wwww.example.com/a/b/c/d/e/f///g/", "https://www.www.x.com", "http://w.x/y", "https://www.x.com/in",
        ]
        for text in plain {
            let fast = try XCTUnwrap(ProfileURL.plainParts(text), text)
            let general = try ProfileURL.generalParts(text).get()
            XCTAssertEqual(fast.host, general.host, text)
            XCTAssertEqual(fast.segments, general.segments, text)
        }
        let other = [
            " https://x.com/jane", "https://x.com/jane ", "HTTPS://x.com/jane", "https://X.com/jane", "https://x.com:443/jane",
            "https://user@x.com/jane", "https://x.com/jane?ref=1", "https://x.com/jane#top", "https://linkedin.com/in/j%C3%A9r%C3%B4me",
            "linkedin.com/in/janedoe", "ftp://x.com/jane", "https://", "https:///in/janedoe", "https://x.com/jané",
        ]
        for text in other {
            XCTAssertNil(ProfileURL.plainParts(text), text)
        }
        // And the answers callers see are the general parse's.
        XCTAssertEqual(try ProfileURL.linkedin("https://linkedin.com/in/j%C3%A9r%C3%B4me").get().handle, "jérôme")
        XCTAssertEqual(try ProfileURL.linkedin("https://www.linkedin.com//in//janedoe/").get().handle, "janedoe")
    }
}
