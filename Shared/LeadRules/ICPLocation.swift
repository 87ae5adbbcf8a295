import Foundation
import LeadModel

/// An offer's ICP locations as the rule scorer reads them, once per offer: a country, a region,
/// a US state, a province, a city, a place with where it lies ("Austin, TX") or a list of those
/// (``ICPLocation``, ``HeldPlace``). A lead's place is read and placed against them in
/// PlaceReading.swift.
extension RuleBasedScorer {
    /// An ICP location as written ("Germany", "EMEA", "US & Canada", "Texas", "Bay Area"), with what
    /// ``placement(of:in:)`` reads in it: read once per offer, not once per lead.
    struct ICPLocation: Sendable {
        /// As written. Everything else is read from it, but for a city's metropolitan area,
        /// read as the city (``RuleBasedScorer/city(ofItsArea:)``: "Greater Boston" is Boston),
        /// and the District written alone ("DC", "D.C.", "Washington DC", "Washington D.C."),
        /// read as "Washington, DC".
        let phrase: SignalDetector.Phrase
        /// As written and by the city's other names (``Gazetteer/otherNames(of:)``; "NYC" and
        /// its boroughs, ``Gazetteer/boroughs(of:)``, for New York), without accents (``Gazetteer/folded(_:)``): "Zurich" names "Zürich", "München" Munich.
        let names: [SignalDetector.Phrase]
        /// Normalised, a country's other names ("USA") as the country's.
        let country: String
        /// Whether it is a country.
        let isCountry: Bool
        /// The countries it spans when it is a country, a region of the ``Gazetteer``, or a list of
        /// them (``countries(listedIn:)``).
        let scope: Set<String>?
        /// The US state it is, by name or postal code.
        let usState: String?
        /// The province or state of another country it is, by name ("Ontario", "New South
        /// Wales"), folded as the ``Gazetteer``'s subdivisions are.
        let province: String?
        /// The countries the areas it names lie in (for "Bay Area", the United States).
        let countries: Set<String>
        /// The region within one country it names ("England", "New England", "Bay Area",
        /// "Silicon Valley": ``Gazetteer/Subregion``), whose places it holds.
        let subregion: Gazetteer.Subregion?
        /// The places it lists when they are not all countries and regions ("US & London", "New
        /// York, UK": ``places(listedIn:)``), each read on its own; empty otherwise.
        let places: [ICPLocation]
        /// Set when it names one place and, after a comma, the US state, province, country or
        /// region holding it ("London, UK", "Austin, TX", "Paris, France", "London, Ontario,
        /// Canada", "Texas, US"), or a city the scorer knows alone, as written with its state or
        /// country (``writtenWithWhereItLies(_:)``: "London" is "London, United Kingdom",
        /// "Austin" "Austin, Texas"); nil otherwise.
        let held: HeldPlace?
        /// Whether placing a lead against it reads the lead's streets, state or province and
        /// cities (``PlaceAreas/hasStatesAndCities``): it is a US state, a province, a region within
        /// a country, a place with
        /// where it lies or a city, or lists one; a country or region reads only the areas named.
        let readsStatesAndCities: Bool

        /// - Parameters:
        ///   - isWhereAPlaceLies: `written` follows a place's comma ("Melbourne, Victoria"),
        ///     where a name of a province that is also a city's or a person's ("Victoria") is the
        ///     province; alone or in a list it is read by its name only.
        ///   - isBeforeAComma: `written` is what a ``HeldPlace`` names before its comma, so a city
        ///     is not written out with where it lies again.
        init(_ written: String, isWhereAPlaceLies: Bool = false, isBeforeAComma: Bool = false) {
            phrase = SignalDetector.Phrase(written)
            // A city's area ("Greater Boston") is the city; the District alone ("DC", "Washington
            // D.C.") is the city, as "Washington, DC" is.
            let isAlone = !isWhereAPlaceLies && !isBeforeAComma
            let city = isAlone ? RuleBasedScorer.city(ofItsArea: written) ?? written : written
            let wanted = isAlone && RuleBasedScorer.namesTheDistrict(SignalDetector.normalize(city)) ? "Washington, DC" : city
            let normalized = SignalDetector.normalize(wanted)
            let namedCountry = RuleBasedScorer.country(named: normalized)
            country = namedCountry ?? normalized
            isCountry = namedCountry != nil
            scope = isCountry ? [country] : Gazetteer.standard.regions[Gazetteer.folded(wanted)] ?? RuleBasedScorer.countries(listedIn: normalized)
            usState = usStatesByName[normalized] ?? usStatesByCode[normalized]
            // "Victoria" alone is a city, a state and a name (places.json): only its name is read.
            let isAmbiguous = !isWhereAPlaceLies && Gazetteer.folded(wanted) == "victoria"
            let provinceCountry = isAmbiguous ? nil : Gazetteer.standard.subdivisions[Gazetteer.folded(wanted)]
            province = provinceCountry == nil ? nil : Gazetteer.folded(wanted)
            subregion = Gazetteer.standard.subregions[Gazetteer.folded(wanted)]
            countries = Set(RuleBasedScorer.namedAreas(of: phrase).named.joined() + [provinceCountry, subregion?.country].compactMap { $0 })
            let isRegion = isCountry || scope != nil || usState != nil || province != nil || subregion != nil
            places = isRegion ? [] : RuleBasedScorer.places(listedIn: wanted) ?? []
            // New York City is "New York, NY", the city named as its state; a city alone, the
            // one the scorer knows by its name, is that city with its state or country.
            held = isRegion || !places.isEmpty ? nil : HeldPlace(newYorkCityNames.contains(normalized) ? "New York, NY" : wanted)
                ?? (isBeforeAComma ? nil : RuleBasedScorer.writtenWithWhereItLies(wanted).flatMap(HeldPlace.init))
            // New York as a city named as its state is New York City: "NYC" and its boroughs.
            let otherNames = Gazetteer.standard.otherNames(of: wanted)
                + (usState == newYork ? ["nyc"] + Gazetteer.standard.boroughs(of: "new york city") : [])
            names = ([Gazetteer.folded(wanted)] + otherNames).map(SignalDetector.Phrase.init)
            readsStatesAndCities = usState != nil || province != nil || subregion != nil || held != nil
                || places.contains(where: \.readsStatesAndCities)
        }

        /// Whether `place` names it by one of its ``names`` as whole words, with or without
        /// accents; `folded` is `place` without accents (``Gazetteer/folded(_:)``).
        func isNamed(in place: SignalDetector.Phrase, folded: SignalDetector.Phrase) -> Bool {
            phrase.occurs(in: place) || names.contains { $0.occurs(in: folded) }
        }

        /// Whether it names a place the scorer knows: a country, a region, a US state, or a place
        /// whose country it knows (a city, "Bay Area", a province).
        var isKnown: Bool { isCountry || scope != nil || usState != nil || !countries.isEmpty }
    }

    /// An ICP location naming one place before its first comma and, after it, where that place
    /// lies ("London, UK", "Austin, TX", "London, Ontario, Canada", "Texas, US"), each part read
    /// as an ICP location of its own. A class, so that an ``ICPLocation`` can hold two.
    final class HeldPlace: Sendable {
        /// What it names before its first comma: a city ("London"), an area the scorer knows
        /// by its country only ("Ontario"), or a US state or country ("Texas").
        let place: ICPLocation
        /// Where ``place`` lies: what follows the first comma ("UK", "TX", "Ontario, Canada"), or
        /// for a city the scorer knows in one state or province of the country there, that state
        /// or province ("Austin, USA": Texas; "Toronto, Canada": Ontario); a
        /// code of a US state and of a country (``countriesOfStateCodes``) is the country when the
        /// scorer knows the city there ("Toronto, CA": Canada), else the state, as "City, ST" is
        /// how US places are written ("San Francisco, CA"; "Wilmington, DE", a city it does not
        /// know: Delaware); a province's or territory's code is the province ("Toronto, ON"), and
        /// one that is a country's too or two territories' (``readings(ofCodeIn:city:)``) the
        /// place the country after it or the city names ("Regina, SK" and "Moose Jaw, SK,
        /// Canada": Saskatchewan; "Amsterdam, NL": the Netherlands), else the country ("Moose
        /// Jaw, SK": Slovakia).
        let holder: ICPLocation
        /// Whether ``place`` is a city named as a US state, with a US state after the comma ("New
        /// York, NY", "Washington, DC", "Indiana, PA"), not the state.
        let isCityNamedAsState: Bool
        /// Whether the scorer knows ``place`` as a city in the country of ``holder``
        /// (``countries(ofKnownCity:)``: "London, UK", "Austin, TX"; not "London, Ontario" nor
        /// "Springfield, IL"), so it knows another city it lists there is elsewhere.
        let isKnownCity: Bool
        /// The other places the code after the comma stands for when the scorer does not know the
        /// city and ``holder`` is one reading of it: the country of a code that is a US state's
        /// too ("Mannheim, DE", read as Delaware: Germany), or the province of one that is a
        /// country's too ("Moose Jaw, SK", read as Slovakia: Saskatchewan). A place naming the
        /// city there ("Mannheim, Germany", "Moose Jaw, Saskatchewan") may be the city meant, so
        /// it is no evidence either way rather than outside ("Windsor, Ontario" for "Windsor, CA"
        /// may be California's namesake).
        let otherReadings: [ICPLocation]
        /// ``place``'s names, folded (``ICPLocation/names``).
        let names: Set<String>
        /// The metropolitan areas ``place`` is in by any of its names (``Gazetteer/metroAreas(of:)``),
        /// read once per offer.
        let metroAreas: Set<Int>

        /// Nil unless `wanted` is one place with where it lies after its last comma (``isOnePlace(_:)``).
        init?(_ wanted: String) {
            guard RuleBasedScorer.isOnePlace(wanted), let comma = wanted.firstIndex(of: ",") else { return nil }
            let name = String(wanted[..<comma])
            guard !SignalDetector.Phrase(name).isBlank else { return nil }
            let after = String(wanted[wanted.index(after: comma)...])
            let readings = RuleBasedScorer.readings(ofCodeIn: after, city: name).map { ICPLocation($0, isWhereAPlaceLies: true) }
            var holder = readings.first ?? ICPLocation(after, isWhereAPlaceLies: true)
            // A province of the country after the comma is the province ("Victoria, Australia").
            place = ICPLocation(name, isWhereAPlaceLies: Gazetteer.standard.subdivisions[Gazetteer.folded(name)] == holder.country,
                                isBeforeAComma: true)
            var otherReadings = Array(readings.dropFirst())
            if let country = countriesOfStateCodes[SignalDetector.normalize(after)] {
                if RuleBasedScorer.countries(namedIn: name).contains(SignalDetector.normalize(country)) {
                    holder = ICPLocation(country, isWhereAPlaceLies: true)
                } else {
                    otherReadings = [ICPLocation(country, isWhereAPlaceLies: true)]
                }
            }
            // A city the scorer knows in one state or province of the country after the comma is
            // read with it, as the city alone is ("Austin, USA" is "Austin, Texas": ``writtenWithWhereItLies(_:)``).
            let states = Gazetteer.standard.states(ofCity: name)
            if holder.isCountry, states.count == 1, let state = states.first,
               (Gazetteer.standard.subdivisions[state] ?? unitedStates) == holder.country {
                holder = ICPLocation(state, isWhereAPlaceLies: true)
            }
            self.holder = holder
            self.otherReadings = otherReadings
            names = Set(place.names.map(\.text))
            metroAreas = place.names.reduce(into: []) { $0.formUnion(Gazetteer.standard.metroAreas(of: $1.text)) }
            let holderCountries = holder.isCountry ? [holder.country] : holder.countries.union(holder.usState == nil ? [] : [unitedStates])
            isKnownCity = !RuleBasedScorer.countries(ofKnownCity: name).isDisjoint(with: holderCountries)
            // The holder may name where it lies in turn ("New York, NY, USA": its first part is the state).
            isCityNamedAsState = usStatesByName[SignalDetector.normalize(name)] != nil
                && (holder.usState ?? ICPLocation(String(after.prefix { $0 != "," }), isWhereAPlaceLies: true).usState) != nil
        }

        /// Whether `other` names ``place`` (``ICPLocation/isNamed(in:folded:)``: by any of its
        /// names, with or without accents); a city named as a US state only in its first
        /// comma-separated part, and not as a state (``PlaceAreas/firstPart``: "New York, NY"
        /// names the city; "Albany, New York", "Upstate New York", "New York State" the state).
        /// A street named after it ("Oxford Street, London") does not name it.
        func isNamed(in other: PlaceAreas) -> Bool {
            guard isCityNamedAsState else { return place.isNamed(in: other.phrase, folded: other.folded) }
            return other.firstPart.map { place.isNamed(in: $0.phrase, folded: $0.folded) } ?? false
        }

        /// Whether `other`, which does not name ``place``, names only cities the scorer knows to
        /// be elsewhere: ``place`` is a city it knows (``isKnownCity``), every part `other` lists
        /// names a city the scorer knows (not "Manchester & Croydon": Croydon may be in London,
        /// ``PlaceAreas/hasPartNamingNoCity``), and every city it knows in `other`
        /// (``PlaceAreas/cities``) is another city, of another metropolitan area
        /// (``Gazetteer/isOneMetroArea(_:_:)``: "Oakland" may be in San Francisco's area).
        func namesOnlyOtherCities(_ other: PlaceAreas) -> Bool {
            guard isKnownCity, !other.hasPartNamingNoCity else { return false }
            return !other.cities.isEmpty && other.cities.indices.allSatisfy { index in
                !names.contains(other.cities[index]) && !Gazetteer.isOneMetroArea(other.citiesMetroAreas[index], metroAreas)
            }
        }

        /// Whether `other` names a city the scorer knows where `other` says it is
        /// (``PlaceAreas/cities``) that is in a metropolitan area of ``place``, a city it knows
        /// (``Gazetteer/isOneMetroArea(_:_:)``), whatever state or province each is in: "Jersey City"
        /// or "Newark, NJ" for New York City, "Gatineau, QC" for Ottawa, "Kansas City, KS" and
        /// "Overland Park" for "Kansas City, MO", "Noida" for Gurgaon (not "Portland, ME" for
        /// "Portland, OR": a name of two cities, of no one area).
        func namesCityOfItsMetroArea(_ other: PlaceAreas) -> Bool {
            isKnownCity && other.citiesMetroAreas.contains { Gazetteer.isOneMetroArea($0, metroAreas) }
        }

        /// Whether `other`, which names ``place``, names it only as another city of its name
        /// (``PlaceAreas/namesakes``) when the scorer knows ``place`` (``isKnownCity``): "Austin,
        /// MN" for "Austin, USA", as for "Austin, TX".
        func namesOnlyANamesake(_ other: PlaceAreas) -> Bool {
            isKnownCity && other.namesakes.contains(where: names.contains) && !other.cities.contains(where: names.contains)
        }
    }

    /// The city an ICP location naming its metropolitan area names, as written: "Boston" for
    /// "Greater Boston", "Boston Area", "Boston Metro", "Boston Metro Area" and "Boston
    /// Metropolitan Area", "DC" for "DC Metro Area"; nil unless what is left is a city the scorer
    /// knows (``countries(ofKnownCity:)``) or the District (``namesTheDistrict(_:)``): not for "Bay Area",
    /// a region.
    static func city(ofItsArea written: String) -> String? {
        guard !written.contains(",") else { return nil }
        var words = written.split(whereSeparator: \.isWhitespace)
        if words.first?.lowercased() == "greater" { words.removeFirst() }
        if words.last?.lowercased() == "area" { words.removeLast() }
        if let last = words.last?.lowercased(), last == "metro" || last == "metropolitan" { words.removeLast() }
        let city = words.joined(separator: " ")
        guard !words.isEmpty, city.count < written.trimmingCharacters(in: .whitespaces).count,
              !countries(ofKnownCity: city).isEmpty || namesTheDistrict(SignalDetector.normalize(city)) else { return nil }
        return city
    }

    /// The countries (normalised) of the city the scorer knows by the name `name`, folded or
    /// not: one the ``Gazetteer`` lists (one country; a region's name is no city), or one of
    /// its own (``ownCities``: London, New York City); none for any other name, even one naming
    /// a city among other words ("North Vancouver": ``countries(namedIn:)`` reads those).
    static func countries(ofKnownCity name: String) -> Set<String> {
        let key = Gazetteer.folded(name)
        if Gazetteer.standard.regions[key] == nil, let countries = Gazetteer.standard.areas[key] { return countries }
        return ownCities[key].map { [$0] } ?? []
    }

    /// The cities the scorer knows that `place` names, folded: the gazetteer's and its own
    /// (``ownCities``; "New York" alone is as often the state, so only "NYC" and "New York City").
    static func cities(in place: SignalDetector.Phrase) -> [String] {
        let folded = SignalDetector.Phrase(Gazetteer.folded(place.text))
        return Gazetteer.standard.cities(in: place.text) + ownCityPhrases.filter { $0.occurs(in: folded) }.map(\.text)
    }

    /// `city` written with its state or province when the gazetteer lists one for it
    /// ("Austin, texas", "Toronto, ontario"), else with its country ("London, united kingdom"),
    /// when the scorer knows a city by that name (``countries(ofKnownCity:)``) in one country;
    /// nil otherwise, and for anything with a comma.
    static func writtenWithWhereItLies(_ city: String) -> String? {
        guard !city.contains(","), !SignalDetector.Phrase(city).isBlank else { return nil }
        let countries = countries(ofKnownCity: city)
        guard countries.count == 1, let country = countries.first else { return nil }
        let states = Gazetteer.standard.states(ofCity: city)
        return city + ", " + (states.count == 1 ? states.first! : country)
    }

    /// Cities the scorer knows by its own names, not the gazetteer's, folded, with their country:
    /// London and New York City. Each name but "New York" names its country in a lead's place
    /// (``namedAreas(of:)``) and New York City's the state of New York (``newYorkCityNames``);
    /// "New York" is as often the state, so it is the city only as a place with its state ("New
    /// York, NY": ``HeldPlace/isCityNamedAsState``).
    static let ownCities: [String: String] = [
        "london": unitedKingdom, "new york": unitedStates, "nyc": unitedStates, "new york city": unitedStates,
    ]
    /// The names of ``ownCities`` that name the city in a place: not "New York".
    static let ownCityPhrases = ownCities.keys.filter { $0 != "new york" }.sorted().map(SignalDetector.Phrase.init)

    /// The countries, normalised, that `text` names as a lead's place names them
    /// (``namedAreas(of:)``: a country, an alias, a city or region of the ``Gazetteer`` in it,
    /// "North Vancouver" is Canada's), with the country of one of ``citiesAbroad`` that it is
    /// ("Cali": Colombia): where a city written before a code may be ("Cali, CO").
    static func countries(namedIn text: String) -> Set<String> {
        var countries = Set(namedAreas(of: SignalDetector.Phrase(text)).named.joined())
        if let city = citiesAbroad[SignalDetector.normalize(text)] { countries.insert(city.country) }
        return countries
    }

    /// The US states' postal codes that are as often a country's code after a city (normalised,
    /// with the country's name): those of ``citiesAbroad``'s countries and ``codesOfCountriesToo``.
    /// Read as the country only where the scorer knows the city in it (``HeldPlace/holder``,
    /// ``lastPartCountry(of:)``). The other codes of both ("GA", "MD", "ME") are read as US states.
    static let countriesOfStateCodes: [String: String] = [
        "ca": "Canada", "il": "Israel", "co": "Colombia", "ma": "Morocco", "pa": "Panama", "wa": "Australia",
        "de": "Germany", "in": "India", "ar": "Argentina", "id": "Indonesia",
    ].reduce(into: [:]) { codes, entry in codes[SignalDetector.normalize(entry.key)] = entry.value }

    /// The places an ICP location lists when it lists places the scorer knows, not all of them
    /// countries and regions (those ``countries(listedIn:)`` reads): cities or US states beside
    /// them or each other, between commas, "&", "/", "+", ";", "|", "and", "or" and "plus" ("US &
    /// London", "New York, UK", "EMEA and New York", "Texas / Oregon"); those that name no place
    /// (``icpNamesNoPlace(_:)``) left out, as an ICP's entries are. A place with, after a comma,
    /// the state, province or country it lies in ("Austin, TX", "London, Ontario", "Paris,
    /// France": ``isOnePlace(_:)``) is one part ("Austin, TX & London": Austin and London, not
    /// Texas). Nil when it names one place: a part the scorer does not know ("Bosnia and
    /// Herzegovina"), or one place with where it lies ("Austin, TX", "London, Ontario, Canada").
    static func places(listedIn wanted: String) -> [ICPLocation]? {
        var parts: [String] = []
        // Whether the last part ended at a comma, so the next may say where it lies.
        var afterComma = false
        for piece in wanted.split(omittingEmptySubsequences: false, whereSeparator: { ",&/+;|".contains($0) }) {
            let separator = piece.endIndex < wanted.endIndex ? wanted[piece.endIndex] : nil
            var words: [Substring] = []
            var isFirst = true
            func append() {
                let part = words.joined(separator: " ")
                if isFirst, afterComma, let last = parts.last, isOnePlace(last + ", " + part) {
                    parts[parts.count - 1] = last + ", " + part
                } else {
                    parts.append(part)
                }
                isFirst = false
            }
            for word in piece.split(whereSeparator: \.isWhitespace) {
                if listConjunctions.contains(word.lowercased()) {
                    if !words.isEmpty { append() }
                    words = []
                    isFirst = false
                } else {
                    words.append(word)
                }
            }
            if !words.isEmpty { append() }
            afterComma = separator == "," && !words.isEmpty
        }
        guard parts.count > 1 else { return nil }
        let places = parts.filter { !icpNamesNoPlace($0) }.map { ICPLocation($0) }
        guard !places.isEmpty, places.allSatisfy(\.isKnown) else { return nil }
        return places
    }

    /// Words an ICP location lists places with (``places(listedIn:)``).
    static let listConjunctions: Set<String> = ["and", "or", "plus"]

    /// Whether `wanted` is a place followed, after its last comma, by where it lies (not a list of
    /// countries, ``countries(listedIn:)``: "UK, NL"): a US state,
    /// a province or state of another country (by name or code: "Regina, SK"), or a country or
    /// region holding every area named before it or the province before it, or after a place
    /// the scorer does not know ("Austin, TX", "London, Ontario", "Paris, France", "Ontario,
    /// Canada", "Moose Jaw, SK, Canada", "Cambridge, UK"; not "New York, UK", nor "Remote, UK",
    /// whose first part names no place).
    static func isOnePlace(_ wanted: String) -> Bool {
        guard let comma = wanted.lastIndex(of: ",") else { return false }
        // Countries listed by name or code are several places: "UK, NL", "Germany, NL".
        if countries(listedIn: SignalDetector.normalize(wanted)) != nil { return false }
        let last = String(wanted[wanted.index(after: comma)...])
        let name = SignalDetector.normalize(last)
        if usStatesByName[name] != nil || usStatesByCode[name] != nil || regionCodes[name] != nil
            || Gazetteer.standard.subdivisions[Gazetteer.folded(last)] != nil || !readings(ofCode: name).isEmpty {
            return true
        }
        guard let scope = ICPLocation(last).scope else { return false }
        let before = String(wanted[..<comma])
        // A province or state of the country: "Ontario, Canada", "Moose Jaw, SK, Canada".
        if let country = Gazetteer.standard.subdivisions[Gazetteer.folded(before)] { return scope.contains(country) }
        if let code = before.split(separator: ",").dropFirst().last,
           readings(ofCode: SignalDetector.normalize(String(code))).contains(where: { scope.contains(country(ofReading: $0)) }) {
            return true
        }
        let areasBefore = namedAreas(of: SignalDetector.Phrase(before)).named
        // A city the scorer does not know, with its country: "Cambridge, UK" (not "Remote, UK").
        guard !areasBefore.isEmpty else { return !icpNamesNoPlace(before) && !SignalDetector.Phrase(before).isBlank }
        return areasBefore.allSatisfy { $0.isSubset(of: scope) }
    }

    /// The countries an ICP location names when it lists only countries and regions of the
    /// ``Gazetteer`` (``listingWords`` between or after them): "US & Canada", "UK and Ireland",
    /// "Germany, Austria, Switzerland", "EMEA and North America", "US only", and, in a list of
    /// two or more, countries by their codes (``countryCodes``: "UK, NL", "Germany, NL"); nil when
    /// it names anything else (a state, a city) or nothing. `normalized` is ``SignalDetector/normalize(_:)``'s.
    static func countries(listedIn normalized: String) -> Set<String>? {
        let words = normalized.split(separator: " ")
        var countries: Set<String> = []
        var start = 0
        var names = 0
        var codes: [String] = []
        while start < words.count {
            if listingWords.contains(words[start]) {
                start += 1
                continue
            }
            if let country = countryCodes[" \(words[start]) "] {
                countries.insert(country)
                codes.append(" \(words[start]) ")
                start += 1
                continue
            }
            // The longest name starting here (a country's has at most four words: "United States of America").
            let longest = (1...min(4, words.count - start)).reversed().lazy.compactMap { length -> (Int, Set<String>)? in
                let name = words[start..<start + length].joined(separator: " ")
                if let country = country(named: " \(name) ") { return (length, [country]) }
                return Gazetteer.standard.regions[Gazetteer.folded(name)].map { (length, $0) }
            }.first
            guard let (length, named) = longest else { return nil }
            countries.formUnion(named)
            names += 1
            start += length
        }
        // A code alone ("NL", "SK") may be a province's: only a list says it is a country, and
        // not one naming the province's country ("Canada, NL" is Newfoundland and Labrador).
        guard !countries.isEmpty, codes.isEmpty || names + codes.count > 1 else { return nil }
        let isProvinceThere = codes.contains { code in
            countriesOfCodes(provincesByCode[code] ?? []).contains { countries.contains($0) }
        }
        return isProvinceThere ? nil : countries
    }

    /// Two-letter codes of the countries the scorer knows, normalised, with the countries'
    /// names, read in an ICP's list of countries (``countries(listedIn:)``): not those of US
    /// states too (CA, DE, IN, IL, CO, MA, AR, ID), which stay the states' there, nor "SA"
    /// (Saudi Arabia's, and South Africa's as people write it); "UK" and "US" are names (``countryNames``).
    private static let countryCodes: [String: String] = [
        "nl": "netherlands", "be": "belgium", "lu": "luxembourg", "ch": "switzerland", "at": "austria", "se": "sweden",
        "no": "norway", "dk": "denmark", "fi": "finland", "is": "iceland", "pl": "poland", "cz": "czechia", "sk": "slovakia",
        "hu": "hungary", "ro": "romania", "bg": "bulgaria", "gr": "greece", "hr": "croatia", "rs": "serbia", "si": "slovenia",
        "ee": "estonia", "lv": "latvia", "lt": "lithuania", "ua": "ukraine", "tr": "turkey", "ae": "united arab emirates",
        "qa": "qatar", "eg": "egypt", "za": "south africa", "ng": "nigeria", "ke": "kenya", "gh": "ghana", "br": "brazil",
        "mx": "mexico", "cl": "chile", "pe": "peru", "uy": "uruguay", "jp": "japan", "cn": "china", "kr": "south korea",
        "tw": "taiwan", "hk": "hong kong", "sg": "singapore", "my": "malaysia", "ph": "philippines", "th": "thailand",
        "vn": "vietnam", "pk": "pakistan", "bd": "bangladesh", "lk": "sri lanka", "au": "australia", "nz": "new zealand",
        "ie": "ireland", "fr": "france", "es": "spain", "pt": "portugal", "it": "italy", "gb": "united kingdom",
    ].reduce(into: [:]) { codes, entry in codes[SignalDetector.normalize(entry.key)] = SignalDetector.normalize(entry.value) }

    /// Words an ICP location lists countries with besides its punctuation.
    private static let listingWords: Set<Substring> = ["and", "or", "the", "only", "plus", "region", "regions", "countries"]
}
