import Foundation
import LeadModel
@testable import LeadRules
import XCTest

/// The tricky cases of reading titles and industries.
final class ScoringVocabularyTests: XCTestCase {
    let vocabulary = ScoringVocabulary.standard

    func testAbbreviationsAndSynonymsOfSalesLeadersReadAlike() throws {
        for title in ["VP Sales", "Vice President, Sales", "SVP Sales", "V.P. of Sales", "Head of Sales", "Sales Director"] {
            let role = try XCTUnwrap(vocabulary.role(ofTitle: title), title)
            XCTAssertEqual(role.functions, ["sales"], title)
        }
        XCTAssertEqual(vocabulary.role(ofTitle: "VP Sales")?.seniority, .vp)
        XCTAssertEqual(vocabulary.role(ofTitle: "Vice President, Sales")?.seniority, .vp)
        XCTAssertEqual(vocabulary.role(ofTitle: "Head of Sales")?.seniority, .director)
        XCTAssertEqual(vocabulary.role(ofTitle: "SVP Revenue")?.functions, ["sales"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CRO")?.seniority, .cLevel)
        XCTAssertEqual(vocabulary.role(ofTitle: "CRO")?.functions, ["sales"])
    }

    func testLongerPhrasesWinOverTheWordsInside() {
        XCTAssertEqual(vocabulary.role(ofTitle: "Director of Revenue Operations")?.functions, ["revenue operations"])
        XCTAssertEqual(vocabulary.role(ofTitle: "RevOps Manager")?.functions, ["revenue operations"])
        XCTAssertEqual(vocabulary.role(ofTitle: "Head of Demand Gen")?.functions, ["marketing"])
        XCTAssertEqual(vocabulary.role(ofTitle: "Senior Product Marketing Manager")?.functions, ["marketing"])
        XCTAssertEqual(vocabulary.role(ofTitle: "VP Sales & Marketing")?.functions, ["sales", "marketing"])
        XCTAssertEqual(vocabulary.role(ofTitle: "Co-founder & CEO")?.seniority, .founder)
        XCTAssertEqual(vocabulary.role(ofTitle: "Senior Vice President, Customer Success")?.seniority, .vp)
        XCTAssertEqual(vocabulary.role(ofTitle: "Account Executive")?.seniority, .entry)
        XCTAssertNil(vocabulary.role(ofTitle: "Dad, runner, coffee"))
    }

    func testAnICPTitleKeepsItsSpecialtyWithoutSeniorityWords() {
        XCTAssertEqual(vocabulary.specialty(ofTitle: "head of sales"), " sales ")
        XCTAssertEqual(vocabulary.specialty(ofTitle: "VP Demand Gen"), " demand generation ")
        XCTAssertNil(vocabulary.specialty(ofTitle: "Director"))
    }

    func testExpansionReplacesAdjacentAndRepeatedAbbreviationsAsWholeWords() {
        XCTAssertEqual(vocabulary.expand("VP VP Sales"), " vice president vice president sales ")
        XCTAssertEqual(vocabulary.expand("vp, sales & vp marketing"), " vice president sales and vice president marketing ")
        XCTAssertEqual(vocabulary.expand("MVP"), " mvp ", "an abbreviation inside a word is not expanded")
        XCTAssertEqual(vocabulary.expand(""), "  ")
        XCTAssertEqual(vocabulary.expand("Vice-Président Ventes"), " vice président ventes ")
        XCTAssertEqual(vocabulary.role(ofTitle: "VP Sales")?.words, " vice president sales ")
    }

    /// "CSO" and "CPO" each name several chiefs (sales, security, strategy; product, people,
    /// procurement). Alone they are C-level of no known function; the title's other words and the
    /// person's own descriptions (headline, bio) choose a reading when they name the function of
    /// exactly one. They were read as sales and product whatever the person did.
    func testAnAmbiguousChiefTitleIsReadFromItsContext() {
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO")?.seniority, .cLevel)
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO")?.functions, [])
        XCTAssertEqual(vocabulary.role(ofTitle: "CPO")?.functions, [])
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO", context: ["CSO at Acme | Building sales teams that win"])?.functions, ["sales"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO", context: ["Keeping Acme secure | Cybersecurity, compliance"])?.functions,
                       ["security"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO", context: ["Keeping Acme secure | Cybersecurity, compliance"])?.seniority, .cLevel)
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO, Information Security")?.functions, ["security"], "the title's own words")
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO", context: ["Sales and security leader"])?.functions, [],
                       "a context naming two readings chooses neither")
        XCTAssertEqual(vocabulary.role(ofTitle: "CPO", context: ["CPO | People & Culture at Acme"])?.functions, ["people"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CPO", context: ["CPO at Acme | Product management, roadmaps"])?.functions, ["product"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CRO", context: ["Security"])?.functions, ["sales"], "an unambiguous one as before")
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO", context: ["Chief Strategy Officer at Acme"])?.words, " chief strategy officer ",
                       "a reading written out is the one meant")
        XCTAssertEqual(vocabulary.openReadings(ofTitle: "CPO"), ["chief product officer", "chief people officer", "chief procurement officer"])
        XCTAssertEqual(vocabulary.openReadings(ofTitle: "CPO", context: ["Product management"]), [])
        XCTAssertEqual(vocabulary.openReadings(ofTitle: "VP Sales"), [])
        let both = try! ScoringVocabulary(
            rolesJSON: Data(#"{"abbreviations": {"cso": "chief sales officer"}, "ambiguousAbbreviations": {"cso": ["chief sales officer", "chief security officer"]}, "functions": {"sales": ["sales"], "security": ["security"]}, "seniorities": {"c-level": ["chief", "chief officer"]}}"#.utf8),
            industriesJSON: Data(#"{"children": {}}"#.utf8))
        XCTAssertEqual(both.role(ofTitle: "CSO")?.functions, [], "listed both ways, the ambiguity is what the data says")
        let offerSays = vocabulary.extended(with: VocabularyExtension(abbreviations: ["CSO": "chief security officer"]))
        XCTAssertEqual(offerSays.role(ofTitle: "CSO")?.functions, ["security"], "an offer's own reading is no ambiguity")
    }

    /// A person's own description names what they do now: a past role written out in it ("ex-Chief
    /// Strategy Officer") is not the reading meant, and "people" in a sentence ("products people
    /// love") names no People function.
    func testAPastRoleOrAnEverydayWordInTheContextDoesNotReadAnAmbiguousTitle() {
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO", context: ["Ex-Chief Strategy Officer at Beta | Building sales teams that win"])?.functions,
                       ["sales"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO", context: ["Sales leader. Formerly Chief Security Officer at Beta"])?.functions, ["sales"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO", context: ["Previously a security engineer; now growing revenue at Acme"])?.functions,
                       ["sales"], "a past role's function is not named either")
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO", context: ["Chief Strategy Officer at Acme, ex-McKinsey"])?.words, " chief strategy officer ",
                       "a role now, beside a past employer")
        XCTAssertEqual(vocabulary.role(ofTitle: "CPO", context: ["Building product that people love"])?.functions, ["product"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CPO", context: ["Helping people grow | Product management"])?.functions, ["product"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CPO", context: ["Building the people team at Acme"])?.functions, ["people"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CPO", context: ["CPO | VP People at Acme, products people love"])?.functions, ["people"],
                       "after a seniority, people is the function")
        XCTAssertEqual(vocabulary.role(ofTitle: "CPO", context: ["Head of People & Culture"])?.functions, ["people"])
        XCTAssertEqual(vocabulary.role(ofTitle: "VP People")?.functions, ["people"], "a title's own word")

        // A past marker starts its clause; one inside a clause, or in parentheses, leaves the rest.
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO", context: ["Chief Security Officer at X (formerly Twitter)"])?.functions, ["security"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO", context: ["Security leader (ex-Google)"])?.functions, ["security"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CPO", context: ["Head of People & EX at Acme"])?.functions, ["people"])
        XCTAssertEqual(vocabulary.role(ofTitle: "CSO", context: ["Past: Chief Strategy Officer at Beta | sales teams"])?.functions, ["sales"])
        // "people" after a seniority, written with dots or a comma, or before one, names the function.
        for context in ["V.P. People", "SVP, People", "Director, People", "People Director at Acme", "People Lead"] {
            XCTAssertEqual(vocabulary.role(ofTitle: "CPO", context: [context])?.functions, ["people"], context)
        }
        // An offer's phrase holding the word names it too.
        let offers = vocabulary.extended(with: VocabularyExtension(functions: ["people": ["people success"]]))
        XCTAssertEqual(offers.role(ofTitle: "CPO", context: ["Building people success at Acme"])?.functions, ["people"])
        // An ICP's other titles are titles, not sentences: "People" beside "CPO" says which.
        XCTAssertEqual(vocabulary.icpReadings(ofTitles: ["CPO", "People"])[0].map { $0.role?.functions }, [["people"]])
    }

    func testIndustriesFallUnderTheirParents() {
        XCTAssertTrue(vocabulary.industry("Computer & Network Security", isUnder: "software"))
        XCTAssertTrue(vocabulary.industry("Computer Software", isUnder: "Software"))
        XCTAssertTrue(vocabulary.industry("SaaS", isUnder: "software"))
        XCTAssertTrue(vocabulary.industry("Cybersecurity", isUnder: "technology"))
        XCTAssertTrue(vocabulary.industry("Hospital & Health Care", isUnder: "healthcare"))
        XCTAssertFalse(vocabulary.industry("Hospital & Health Care", isUnder: "software"))
        XCTAssertFalse(vocabulary.industry("Real Estate", isUnder: "software"))
        // Only the narrower falls under the broader: a bank is not an investment bank, nor any
        // software company a security one.
        XCTAssertTrue(vocabulary.industry("Investment Banking", isUnder: "Banking"))
        XCTAssertFalse(vocabulary.industry("Banking", isUnder: "Investment Banking"))
        XCTAssertFalse(vocabulary.industry("Software", isUnder: "security software"))
    }

    /// The gazetteer (`Vocabulary/places.json`) names only countries the scorer knows, keeps out
    /// names of several places and everyday words, and reads names without accents or case.
    func testTheGazetteerNamesKnownCountriesAndNoAmbiguousNames() throws {
        let gazetteer = Gazetteer.standard
        XCTAssertGreaterThan(gazetteer.areas.count, 300)
        for (name, countries) in gazetteer.areas {
            for country in countries { XCTAssertTrue(RuleBasedScorer.isCountry(country), "\(name): \(country)") }
        }
        for country in Set(gazetteer.subdivisions.values) { XCTAssertTrue(RuleBasedScorer.isCountry(country), country) }
        for name in ["cambridge", "birmingham", "richmond", "victoria", "nice", "reading", "york", "cali", "springfield", "la", "in", "de"] {
            XCTAssertNil(gazetteer.areas[name], name)
        }
        XCTAssertEqual(gazetteer.areas(in: "SAO PAULO"), gazetteer.areas(in: "São Paulo"))
        XCTAssertEqual(gazetteer.areas(in: "Zurich"), [[SignalDetector.normalize("switzerland")]])
        XCTAssertEqual(gazetteer.areas(in: "New Delhi, India"), [[SignalDetector.normalize("india")]])
        XCTAssertEqual(gazetteer.areas(in: "Eugene, Oregon"), [])
        XCTAssertThrowsError(try Gazetteer(json: Data(#"{"cities": {"france": ["Paris"], "united states": ["paris"]}, "regions": {}, "subdivisions": {}}"#.utf8)))
        XCTAssertEqual(gazetteer.otherNames(of: "MÜNCHEN"), ["munich"])
        XCTAssertEqual(gazetteer.otherNames(of: "Berlin"), [])
        // Other names are of one city the gazetteer lists.
        XCTAssertThrowsError(try Gazetteer(json: Data(#"{"cities": {"france": ["Paris"], "germany": ["Berlin"]}, "regions": {}, "subdivisions": {}, "otherNames": [["Paris", "Berlin"]]}"#.utf8)))
        XCTAssertThrowsError(try Gazetteer(json: Data(#"{"cities": {"france": ["Paris"]}, "regions": {}, "subdivisions": {}, "otherNames": [["Paris", "Lutetia"]]}"#.utf8)))
        // Every city of the United States, Canada and Australia lies in a state or province of
        // its country (testAKnownCityIsInItsStateOrProvince); its other names too.
        let withStates = Set(["united states", "canada", "australia"].map(SignalDetector.normalize))
        for (name, countries) in gazetteer.areas where gazetteer.regions[name] == nil {
            let states = gazetteer.states(ofCity: name)
            if !countries.isDisjoint(with: withStates) { XCTAssertFalse(states.isEmpty, name) }
            for state in states {
                if countries == [SignalDetector.normalize("united states")] {
                    XCTAssertNotNil(RuleBasedScorer.ICPLocation(state).usState, "\(name): \(state)")
                } else {
                    XCTAssertEqual(gazetteer.subdivisions[state].map { [$0] }, countries, "\(name): \(state)")
                }
            }
        }
        XCTAssertEqual(gazetteer.states(ofCity: "Montréal"), ["quebec"])
        XCTAssertEqual(gazetteer.states(ofCity: "Philly"), ["pennsylvania"])
        XCTAssertEqual(gazetteer.states(ofCity: "Portland"), ["oregon", "maine"])
        XCTAssertThrowsError(try Gazetteer(json: Data(#"{"cities": {"france": ["Paris"]}, "regions": {}, "subdivisions": {"canada": ["Ontario"]}, "statesOfCities": {"Ontario": ["Paris"]}}"#.utf8)))
        XCTAssertThrowsError(try Gazetteer(json: Data(#"{"cities": {"france": ["Paris"]}, "regions": {}, "subdivisions": {}, "statesOfCities": {"Texas": ["Paris"]}}"#.utf8)))
        XCTAssertThrowsError(try Gazetteer(json: Data(#"{"cities": {"france": ["Paris"]}, "regions": {}, "subdivisions": {}, "statesOfCities": {"Texas": ["Dallas"]}}"#.utf8)))
        // A metropolitan area's cities, by any of their names, and none of two countries.
        func isOneMetroArea(_ name: String, _ other: String) -> Bool {
            Gazetteer.isOneMetroArea(gazetteer.metroAreas(of: name), gazetteer.metroAreas(of: other))
        }
        XCTAssertTrue(isOneMetroArea("Köln", "Düsseldorf"))
        XCTAssertTrue(isOneMetroArea("Brooklyn", "New York"))
        XCTAssertTrue(isOneMetroArea("Oakland", "SF"), "by another name of the city")
        XCTAssertFalse(isOneMetroArea("Berlin", "Munich"))
        XCTAssertFalse(isOneMetroArea("Portland", "Portland"), "a city of no area")
        XCTAssertThrowsError(try Gazetteer(json: Data(#"{"cities": {"france": ["Paris"], "germany": ["Berlin"]}, "regions": {}, "subdivisions": {}, "metroAreas": [["Paris", "Berlin"]]}"#.utf8)))
        // A region within a country lists only states, provinces and cities the scorer knows there.
        func region(within names: String, of country: String = "france") -> Data {
            Data(#"{"cities": {"france": ["Paris", "Lyon"], "germany": ["Berlin"]}, "subdivisions": {"canada": ["Ontario"]}, "regions": {"r": {"names": ["Region"], "countries": ["\#(country)"], "within": [\#(names)]}}}"#.utf8)
        }
        XCTAssertNoThrow(try Gazetteer(json: region(within: #""Paris", "Lyon""#)))
        XCTAssertNoThrow(try Gazetteer(json: region(within: #""Ontario""#, of: "canada")))
        XCTAssertNoThrow(try Gazetteer(json: region(within: #""Texas", "New York City""#, of: "united states")))
        XCTAssertNoThrow(try Gazetteer(json: region(within: #""London""#, of: "united kingdom")))
        XCTAssertThrowsError(try Gazetteer(json: region(within: #""Paris", "Atlantis""#)), "a name of no place")
        XCTAssertThrowsError(try Gazetteer(json: region(within: #""Paris", "Berlin""#)), "a city of another country")
        XCTAssertThrowsError(try Gazetteer(json: region(within: #""Ontario""#)), "a province of another country")
        XCTAssertThrowsError(try Gazetteer(json: region(within: #""Texas""#)), "a US state in France")
        XCTAssertThrowsError(try Gazetteer(json: region(within: #""London""#)), "the scorer's own city of another country")
        XCTAssertThrowsError(try Gazetteer(json: Data(#"{"cities": {}, "regions": {}, "subdivisions": {}, "boroughs": {"Atlantis": ["Poseidonia"]}}"#.utf8)),
                             "the boroughs of no city")
    }

    /// Each name of a place lives in one vocabulary: a city places.json lists is not also one of
    /// the scorer's cities abroad, a region or a country is not also in the list of regions a
    /// title is followed by, and a city (SF, the Bay Area, NYC, London) is not also a name of
    /// its country ("New York" is the state's, and the city's only as "New York, NY").
    func testEachPlaceNameLivesInOneVocabulary() {
        let gazetteer = Gazetteer.standard
        for name in RuleBasedScorer.citiesAbroad.keys {
            XCTAssertEqual(gazetteer.areas(in: name), [], "\(name): a city of places.json")
        }
        for name in XBioRole.regions {
            XCTAssertNil(gazetteer.regions[Gazetteer.folded(name)], "\(name): a region of places.json")
            XCTAssertNil(RuleBasedScorer.country(named: SignalDetector.normalize(name)), "\(name): a country")
        }
        for borough in gazetteer.boroughs(of: "New York City") {
            XCTAssertNil(gazetteer.regions[borough], "\(borough): a region of places.json")
            XCTAssertNil(RuleBasedScorer.country(named: SignalDetector.normalize(borough)), "\(borough): a country")
            XCTAssertNil(RuleBasedScorer.ownCities[borough], "\(borough): a city of the scorer's own")
            XCTAssertTrue(gazetteer.areas(in: borough).allSatisfy { $0 == [RuleBasedScorer.unitedStates] }, "\(borough): a city abroad")
        }
        for (country, aliases) in RuleBasedScorer.locationAliases {
            for alias in aliases {
                XCTAssertEqual(gazetteer.areas(in: alias.text), [], "\(alias.text) for \(country): a city or region of places.json")
                XCTAssertFalse(RuleBasedScorer.ownCityPhrases.contains { $0.text == Gazetteer.folded(alias.text) }, "\(alias.text) for \(country): a city of the scorer's own")
            }
        }
    }

    func testAnOfferExtendsTheVocabulary() {
        XCTAssertNil(vocabulary.role(ofTitle: "Chief Evangelist")?.functions.first)
        XCTAssertFalse(vocabulary.industry("Agritech", isUnder: "software"))
        let extended = vocabulary.extended(with: VocabularyExtension(
            abbreviations: ["ce": "chief evangelist"], functions: ["marketing": ["evangelist"]],
            industries: ["software": ["agritech"]]))
        XCTAssertEqual(extended.role(ofTitle: "CE")?.functions, ["marketing"])
        XCTAssertTrue(extended.industry("Agritech", isUnder: "software"))
        XCTAssertFalse(vocabulary.industry("Agritech", isUnder: "software"), "the standard vocabulary is unchanged")
    }

    /// An offer's abbreviations of a chain, each standing for 150 words of the next: "z" for
    /// "y y … y", "y" for "x x … x", down `depth` letters (each within ``FieldLimit/name``).
    private func chain(depth: Int) -> [String: String] {
        let letters = Array("zyxwvutsrq".prefix(depth + 1)).map(String.init)
        return Dictionary(uniqueKeysWithValues: zip(letters, letters.dropFirst()).map { short, next in
            (short, Array(repeating: next, count: 150).joined(separator: " "))
        })
    }

    /// An expansion holding an abbreviation is expanded in turn (longest first), so an offer's
    /// chain of them grew a title without bound: "z" read 6.75 MB at depth 3, and at depth 4 the
    /// scoring stage (the first lead of the offer) and the profile finder's pool matching died
    /// allocating 1 GB. A text's expansions now add at most three times its length and 4 KiB;
    /// an offer's abbreviation still reads the standard ones in its expansion ("VP of Sales").
    func testAnOffersChainOfAbbreviationsExpandsWithinABound() {
        let depth = 5
        let chained = vocabulary.extended(with: VocabularyExtension(abbreviations: chain(depth: depth)))
        let one = chained.expand("z")
        XCTAssertLessThanOrEqual(one.utf8.count, ScoringVocabulary.expandedLimit(ofBytes: 3), "\(one.utf8.count) bytes")
        XCTAssertTrue(one.hasPrefix(" x x x "), "the chain is followed as far as the bound: \(one.prefix(40))")
        let long = String(repeating: "z ", count: 5_000)
        XCTAssertLessThanOrEqual(chained.expand(long).utf8.count, ScoringVocabulary.expandedLimit(ofBytes: long.utf8.count + 2))
        XCTAssertEqual(chained.role(ofTitle: "VP z")?.seniority, .vp)

        let offer = OfferConfig(offerID: "offer-chain", accountID: "acct-1", name: "Chain",
                                icp: IdealCustomerProfile(titles: ["z", "Head of z"]), updatedAt: Fixtures.now,
                                vocabulary: VocabularyExtension(abbreviations: chain(depth: depth)))
        var lead = Fixtures.profile()
        lead.linkedin?.jobTitle = "z"
        lead.linkedin?.headline = "z at z"
        XCTAssertTrue((0...100).contains(RuleBasedScorer().score(profile: lead, offer: offer, source: .csvImport, now: Fixtures.now).fit))

        let headOfSales = vocabulary.extended(with: VocabularyExtension(abbreviations: ["hos": "VP of Sales"]))
        XCTAssertEqual(headOfSales.expand("HoS, EMEA"), " vice president of sales emea ")
        XCTAssertEqual(headOfSales.role(ofTitle: "HoS")?.seniority, .vp)
        XCTAssertEqual(vocabulary.expand("VP VP Sales"), " vice president vice president sales ")
    }

    /// Whom a title serves is not its seniority ("Executive Assistant to the CEO" is no CEO), and
    /// an owner of a product or a process is no business owner.
    func testAssistantsChiefsOfStaffAndOwnersOfThingsAreNotExecutives() {
        let vocabulary = ScoringVocabulary.standard
        func seniority(_ title: String) -> Seniority? { vocabulary.role(ofTitle: title)?.seniority }
        XCTAssertEqual(seniority("Executive Assistant to the CEO"), .entry)
        XCTAssertEqual(seniority("Assistant to the President"), .entry)
        XCTAssertEqual(seniority("Chief of Staff to the CEO"), .director)
        XCTAssertEqual(seniority("Chief of Staff"), .director)
        XCTAssertEqual(seniority("Founder's Associate"), .entry)
        XCTAssertEqual(seniority("Executive Chairman"), .cLevel)
        XCTAssertNil(seniority("Product Owner"))
        XCTAssertEqual(vocabulary.role(ofTitle: "Product Owner")?.functions, ["product"])
        XCTAssertNil(seniority("Business Process Owner"))
        XCTAssertEqual(seniority("Owner"), .founder)
        XCTAssertEqual(seniority("Co-founder & CEO"), .founder)
        XCTAssertEqual(seniority("Chief Executive Officer"), .cLevel)
        // Abbreviations written with dots read as without.
        XCTAssertEqual(seniority("V.P. Sales"), .vp)
        XCTAssertEqual(seniority("S.V.P. Marketing"), .vp)
        XCTAssertEqual(vocabulary.role(ofTitle: "Head of Go to Market")?.seniority, .director)
    }

    /// The title and employer an X bio states.
    private func parse(_ bio: String) -> [String?]? {
        XBioRole.parse(bio).map { [$0.title, $0.company] }
    }

    func testXBiosStateRolesInTheirUsualShapes() {
        XCTAssertEqual(parse("Head of Growth at Northwind | B2B SaaS"), ["Head of Growth", "Northwind"])
        XCTAssertEqual(parse("VP Sales @acme. Opinions mine."), ["VP Sales", "acme"])
        XCTAssertEqual(parse("Dad • runner • Founder, Lumen Labs"), ["Founder", "Lumen Labs"])
        XCTAssertEqual(parse("Co-founder of Pipewise (YC W24)"), ["Co-founder", "Pipewise"])
        XCTAssertEqual(parse("Growth marketer"), ["Growth marketer", nil])
        XCTAssertEqual(parse("Director, Information Security"), ["Director, Information Security", nil])
        XCTAssertEqual(parse("ICU nurse. Coffee first."), ["ICU nurse", nil])
        XCTAssertNil(parse("Coffee, code and the occasional hot take"))
        XCTAssertNil(parse(""))
    }

    /// A role the bio names as a past one is not the lead's role: the next part may state the
    /// current one. A past marker belongs to its own clause ("ex-Googler, VP Sales" is current).
    func testXBioPastRolesAreNotTheCurrentRole() {
        XCTAssertNil(parse("Former VP Sales at Oracle"))
        XCTAssertNil(parse("Ex-CRO @Stripe | angel investor"))
        XCTAssertNil(parse("ex VP Sales, Acme"))
        XCTAssertNil(parse("Formerly Head of Growth at Northwind"))
        XCTAssertNil(parse("Retired CFO of Initech"))
        XCTAssertNil(parse("Previously: growth marketer"))
        XCTAssertEqual(parse("Previously Head of Growth at Northwind. Founder at Pipewise"), ["Founder", "Pipewise"])
        XCTAssertEqual(parse("Past: CRO at Oracle | VP Sales @acme"), ["VP Sales", "acme"])
        XCTAssertEqual(parse("ex-Googler, VP Sales at Acme"), ["ex-Googler, VP Sales", "Acme"])
        XCTAssertEqual(parse("Executive Director at Acme"), ["Executive Director", "Acme"])
    }

    /// A part naming an employer wins over an earlier one naming none ("Marketing nerd" is no
    /// role beside "Head of Growth @Northwind"); what follows a comma is an employer only when
    /// written as a name, not a region or an everyday word.
    func testXBioRolesWithAnEmployerComeFirstAndACommaNamesNoRegionOrHobby() {
        XCTAssertEqual(parse("Marketing nerd | Head of Growth @Northwind"), ["Head of Growth", "Northwind"])
        XCTAssertEqual(parse("Founder/CEO @Northwind"), ["CEO", "Northwind"])
        XCTAssertEqual(parse("Just ship it. VP Growth @Northwind"), ["VP Growth", "Northwind"])
        XCTAssertEqual(parse("Growth marketer | dad"), ["Growth marketer", nil])
        XCTAssertEqual(parse("VP Demand Gen, EMEA"), ["VP Demand Gen", nil])
        XCTAssertEqual(parse("Head of Demand Gen, North America"), ["Head of Demand Gen", nil])
        XCTAssertEqual(parse("CEO, husband, dad"), ["CEO", nil])
        XCTAssertEqual(parse("Founder, angel investor"), ["Founder", nil])
        XCTAssertEqual(parse("Founder, Lumen Labs"), ["Founder", "Lumen Labs"])
        // An abbreviation's ". " ends no sentence, so a past marker keeps its role.
        XCTAssertEqual(parse("Co-founder @acme. Formerly Sr. Account Executive at Outreach"), ["Co-founder", "acme"])
        XCTAssertNil(parse("Formerly Sr. Account Executive at Outreach"))
        XCTAssertEqual(parse("Dir. of Sales at Acme. Dad."), ["Dir. of Sales", "Acme"])
    }

    /// The bio parser splits and searches ASCII bios by bytes: it must find what Foundation finds.
    func testXBioSplittingAndMarkersAgreeWithFoundation() {
        let bios = [
            "Head of Growth at Northwind", "Head of Growth AT Northwind", "VP Sales @ Acme", "CEO Of Acme. Dad. Runner.",
            "ICU nurse. Coffee first.", "Founder.. At Acme", ". . leading", "trailing. ", ". ", "", "at", " at", " at ",
            " At ", "x aT y at z", "Director, Information Security", "a,b, c", "Co-founder of Pipewise (YC W24)",
            "sales@acme", "VP Sales @acme", "Growth at. Acme", "MAT ATTACK at ATLAS", "Of of of", "  spaced   out  ",
            "Café owner at Noir", "Head of Growth at Café Noir. Opinions mine.",
        ]
        for bio in bios {
            XCTAssertEqual(XBioRole.sentences(bio), bio.components(separatedBy: ". "), bio)
            for marker in [" at ", " @ ", " @", ", ", " of "] {
                XCTAssertEqual(XBioRole.range(of: marker, in: bio), bio.range(of: marker, options: .caseInsensitive), "\(marker) in \(bio)")
            }
        }
    }

    func testAnOfferNamingAnUnknownSeniorityIsRefused() {
        var offer = Fixtures.offer()
        offer.vocabulary = VocabularyExtension(seniorities: ["vp": ["veep"]])
        XCTAssertNoThrow(try offer.validate())
        offer.vocabulary = VocabularyExtension(seniorities: ["boss": ["big cheese"]])
        XCTAssertThrowsError(try offer.validate()) { XCTAssertTrue("\($0)".contains("unknown seniority 'boss'"), "\($0)") }
    }

    /// An ICP title with an ambiguous abbreviation is read with the ICP's other titles (``CSO``
    /// beside "VP Sales" is the sales one), and each was read against all the others: an offer
    /// of titles "CSO 0", "CSO 1", ... cost the square of their number (100 titles 2.7 s, 400
    /// titles 38 s, 1,600 titles over 300 s in the debug build) at the first lead of the offer,
    /// in every lead then in flight. The titles are now read once for all of them, and read as
    /// before (these readings are the old code's).
    func testAnICPsTitlesAreReadAgainstEachOtherOnceAndAsBefore() {
        let offer = { (titles: [String]) in
            OfferConfig(offerID: "offer-titles", accountID: "acct-1", name: "Titles", icp: IdealCustomerProfile(titles: titles),
                        updatedAt: Fixtures.now)
        }
        var lead = Fixtures.profile()
        lead.linkedin?.jobTitle = "CSO"
        lead.linkedin?.headline = "CSO at Acme SaaS"
        let many = (0..<1_600).map { "CSO \($0)" }
        let card = RuleBasedScorer().score(profile: lead, offer: offer(many), source: .csvImport, now: Fixtures.now)
        XCTAssertTrue((0...100).contains(card.fit))

        // As each title against the others, with an equal title no context of itself.
        func functions(_ titles: [String]) -> [[Set<String>?]] {
            vocabulary.icpReadings(ofTitles: titles).map { $0.map { $0.role?.functions } }
        }
        XCTAssertEqual(functions(["CPO", "People"]), [[["people"]], [["people"]]])
        XCTAssertEqual(functions(["CSO", "VP Sales", "CSO"]), [[["sales"]], [["sales"]], [["sales"]]])
        XCTAssertEqual(functions(["CSO", "Chief Security Officer"]), [[["security"]], [["security"]]])
        XCTAssertEqual(functions(["CSO", "Sales", "Security"]), [[["sales"], ["security"]], [["sales"]], [["security"]]])
        XCTAssertEqual(functions(["CSO"]), [[["sales"], ["security"], []]])
        XCTAssertEqual(functions(["CSO", "CSO"]), [[["sales"], ["security"], []], [["sales"], ["security"], []]])
        XCTAssertEqual(vocabulary.icpReadings(ofTitles: ["head of sales"]).map { $0.map(\.specialty) }, [[" sales "]])
        XCTAssertEqual(vocabulary.icpReadings(ofTitles: many).map(\.count), Array(repeating: 3, count: 1_600),
                       "no other title says which chief: each stands for every reading")
    }

    /// An offer's lists are bounded twice. Publishing (`leadctl offer put`,
    /// ``OfferConfig/validateForPublishing()``) refuses a list of more than 500 entries, naming
    /// it; reading (``OfferConfig/validate()``, whenever a service reads `offers`) refuses only
    /// one past 5,000, which no stored offer reaches. Before, reading refused a list of 201, so
    /// an offer stored before that bound with 250 industries (LinkedIn's list has over 400) was
    /// skipped by the offers table, and after a restart the offer was unknown: every new lead of
    /// it dead-lettered, its running leads failed at scoring.
    func testAnOffersListsAreBoundedWhenPublishedAndFarBeyondThatWhenRead() throws {
        let codec = MessageCodec()
        var stored = Fixtures.offer()
        stored.icp.industries = ["software"] + (1..<250).map { "Industry \($0)" }
        stored.icp.locations = ["United States"] + (1..<250).map { "Place \($0)" }
        stored.icp.customIntentKeywords = (0..<400).map { "keyword \($0)" }
        XCTAssertEqual(try codec.decode(OfferConfig.self, from: try codec.encode(stored)), stored)
        XCTAssertNoThrow(try stored.validateForPublishing())
        let card = RuleBasedScorer().score(profile: Fixtures.profile(), offer: stored, source: .csvImport, now: Fixtures.now)
        XCTAssertTrue((0...100).contains(card.fit))

        let lists: [(String, WritableKeyPath<OfferConfig, [String]>)] = [
            ("productKeywords", \.productKeywords), ("icp.titles", \.icp.titles), ("icp.industries", \.icp.industries),
            ("icp.locations", \.icp.locations), ("icp.painPoints", \.icp.painPoints), ("icp.competitors", \.icp.competitors),
            ("icp.customIntentKeywords", \.icp.customIntentKeywords)]
        for (field, list) in lists {
            var offer = Fixtures.offer()
            offer[keyPath: list] = (0..<500).map { "entry \($0)" }
            XCTAssertNoThrow(try offer.validateForPublishing(), field)
            offer[keyPath: list].append("one more")
            XCTAssertEqual(try codec.decode(OfferConfig.self, from: try codec.encode(offer)), offer, "\(field): read")
            XCTAssertThrowsError(try offer.validateForPublishing(), field) {
                XCTAssertTrue("\($0)".contains("\(field) holds 501 entries"), "\($0)")
            }
            offer[keyPath: list] = (0..<6_000).map { "entry \($0)" }
            XCTAssertThrowsError(try codec.decode(OfferConfig.self, from: try codec.encode(offer)), field) {
                XCTAssertTrue("\($0)".contains("\(field) holds 6000 entries"), "\($0)")
            }
        }
        // A vocabulary's lists too, within its bound in all (below).
        var offer = Fixtures.offer()
        offer.vocabulary = VocabularyExtension(abbreviations: Dictionary(uniqueKeysWithValues: (0..<501).map { ("a\($0)", "b") }))
        XCTAssertNoThrow(try offer.validate())
        XCTAssertThrowsError(try offer.validateForPublishing()) { XCTAssertTrue("\($0)".contains("vocabulary.abbreviations holds 501 entries"), "\($0)") }
        offer.vocabulary = VocabularyExtension(functions: ["sales": Array(repeating: "closer", count: 501)])
        XCTAssertNoThrow(try offer.validate())
        XCTAssertThrowsError(try offer.validateForPublishing()) { XCTAssertTrue("\($0)".contains("vocabulary.functions.sales holds 501 entries"), "\($0)") }
    }

    /// An offer's vocabulary holds at most 2,000 entries in all (its abbreviations, and the keys
    /// of its other tables with their phrases), and an offer's ICP industries share one reading of
    /// the hierarchy under them. Before, only each list was bounded (200), so 200 industries of
    /// 200 narrower ones each, chained into a cycle (a 397 KB record), were read, and each of 200
    /// ICP industries copied the whole cycle into its scope: 8 million descendants, 655 MB, at
    /// every reading of the offer. Now such a record is refused on read, naming the total, and
    /// each industry under the ICP is held once, however many ICP industries reach it.
    func testAnOffersVocabularyIsBoundedInAllAndItsIndustriesAreReadOnce() throws {
        let codec = MessageCodec()
        /// `keys` industries, each with `phrases` narrower ones, the first of them the next key.
        func cycle(keys: Int, phrases: Int) -> [String: [String]] {
            Dictionary(uniqueKeysWithValues: (0..<keys).map { key in
                ("i\(key)", ["i\((key + 1) % keys)"] + (1..<phrases).map { "i\(key) n\($0)" })
            })
        }
        var offer = Fixtures.offer()
        offer.icp.industries = (0..<200).map { "i\($0)" }
        offer.vocabulary = VocabularyExtension(industries: cycle(keys: 200, phrases: 200))
        XCTAssertThrowsError(try codec.decode(OfferConfig.self, from: try codec.encode(offer))) {
            XCTAssertTrue("\($0)".contains("vocabulary holds 40200 entries in all"), "\($0)")
        }
        let phrases = { (count: Int) in Array(repeating: "closer", count: count) }
        offer.vocabulary = VocabularyExtension(abbreviations: ["x": "y"], functions: ["sales": phrases(499), "marketing": phrases(499)],
                                               industries: ["software": phrases(499), "fintech": phrases(498)])
        XCTAssertNoThrow(try offer.validate(), "2,000 in all")
        XCTAssertThrowsError(try offer.validateForPublishing()) { XCTAssertTrue("\($0)".contains("vocabulary holds 2000 entries in all"), "\($0)") }
        offer.vocabulary?.abbreviations?["z"] = "y"
        XCTAssertThrowsError(try offer.validate()) { XCTAssertTrue("\($0)".contains("vocabulary holds 2001 entries in all"), "\($0)") }

        // Within the bound: 40 industries of 49 narrower ones in a cycle (1,960 entries), and 200
        // ICP industries, each reaching all of them.
        offer.vocabulary = VocabularyExtension(industries: cycle(keys: 40, phrases: 49))
        offer.icp.industries = (0..<200).map { $0 < 40 ? "i\($0)" : "i\($0 % 40) n\($0 / 40)" }
        XCTAssertEqual(try codec.decode(OfferConfig.self, from: try codec.encode(offer)), offer)
        let extended = vocabulary.extended(with: offer.vocabulary)
        let scopes = extended.scopes(ofIndustries: offer.icp.industries)
        XCTAssertEqual(scopes.heldIndustries, 40 * 49, "each industry of the hierarchy once, not once for each ICP industry above it")
        XCTAssertEqual(scopes.heldLinks, 40 * 49, "each link of the hierarchy once")
        // Read as before: the company's industry, or one under an ICP industry, in its name.
        XCTAssertEqual(extended.industry("i7 n3", firstIn: extended.scopes(ofIndustries: ["Banking", "i8", "i7"])), "i8")
        XCTAssertEqual(extended.industry("i7 n3", firstIn: scopes), "i0")
        XCTAssertNil(extended.industry("i7", firstIn: extended.scopes(ofIndustries: ["i7 n3", "Banking"])))
        XCTAssertEqual(extended.industry("n3", broaderThanOneOf: extended.scopes(ofIndustries: ["Banking", "i7 n3"])), "i7 n3")
        XCTAssertFalse(extended.industry("Computer Software", isUnder: "i3"))
        let card = RuleBasedScorer().score(profile: Fixtures.profile(), offer: offer, source: .csvImport, now: Fixtures.now)
        XCTAssertTrue((0...100).contains(card.fit))
    }
}
