import Foundation
import LeadModel

/// The places the rule scorer knows beyond countries and US states: major cities with their
/// country and the state or province they lie in, the regions people write ("Remote — EU",
/// "EMEA") with the countries each may be in, and the states and provinces of other countries
/// that end a place ("London, Ontario").
///
/// The defaults are data, `Vocabulary/places.json` next to this file (bundled with the module),
/// whose `about` says what is left out and why (Cambridge, Birmingham). Names are matched as whole
/// words of ``SignalDetector/normalize(_:)`` text without accents (``folded(_:)``), so "Sao
/// Paulo" is São Paulo; countries are named as ``RuleBasedScorer`` names them, normalised
/// (``SignalDetector/normalize(_:)``, padded).
struct Gazetteer: Sendable {
    /// Every city and region name, folded, with the countries the place it names may be in: one
    /// for a city, several for a region.
    private(set) var areas: [String: Set<String>] = [:]
    /// The region names, folded, with their countries: what an ICP location may name.
    private(set) var regions: [String: Set<String>] = [:]
    /// The names of regions within one country (``Subregion``: "England", "Bay Area"), folded,
    /// read only as an ICP location; not in ``areas`` nor ``regions``.
    private(set) var subregions: [String: Subregion] = [:]
    /// The countries of its cities and regions, normalised: those the scorer names besides
    /// (``RuleBasedScorer/isCountry(_:)``) and those only a region lists (Costa Rica, in LATAM).
    private(set) var countries: Set<String> = []
    /// States and provinces of other countries, folded, with their country; read only as a
    /// place's last part.
    private(set) var subdivisions: [String: String] = [:]
    /// Each city name with other names of that city, folded, with those ("münchen": "munich").
    private var otherNamesByName: [String: [String]] = [:]
    /// Each city name, folded, with the US states or provinces of ``subdivisions`` it may lie
    /// in, folded: one for most ("toronto": "ontario"), two for a name of two ("portland").
    private var statesByCity: [String: Set<String>] = [:]
    /// Each city with its boroughs, folded, which are the city (``boroughs`` in places.json:
    /// New York City's Manhattan, Brooklyn, Queens, the Bronx and Staten Island).
    private var boroughsByCity: [String: [String]] = [:]
    /// Each name of a city in a metropolitan area (``metroAreas`` in places.json), folded, with
    /// the indices of the areas it is in: two for a name of two ("aurora").
    private var metroAreasByName: [String: Set<Int>] = [:]
    /// Abbreviations people write for the city they are in, as written ("LA", "L.A.", "NYC"),
    /// each with the city it stands for as the scorer reads it ("Los Angeles"): ``cityAbbreviations``
    /// in places.json. A lead's place reads one as a part of its own
    /// (``RuleBasedScorer/citiesOfAbbreviationsAlone``), an X bio after an employer's dot
    /// (``isCityAbbreviation(_:)``).
    private(set) var cityAbbreviations: [String: String] = [:]
    /// The abbreviations of ``cityAbbreviations``, lowercase.
    private var lowercasedCityAbbreviations: Set<String> = []
    /// The first word of each name of ``areas``, with the most words of a name starting with it:
    /// a word of a place that starts none is passed over at once.
    private var longestNameByFirstWord: [String: Int] = [:]

    /// The bundled defaults.
    static let standard: Gazetteer = {
        do {
            return try Gazetteer(json: try ScoringVocabulary.resource("places"))
        } catch {
            fatalError("the scorer's bundled gazetteer does not load: \(error)")
        }
    }()

    /// Reads a gazetteer of the shape of `Vocabulary/places.json`; throws when a name is given
    /// two countries, as the file keeps out names of several places, when a city's other
    /// names are not all cities of one country it lists, and when a city's state is not one of
    /// its country (a province of ``subdivisions`` of another country, or one of those for a US
    /// city) or the city is not one it lists, and when a region within one country (`within`)
    /// lists a name that is no state, province or city the scorer knows in that country, or
    /// `boroughs` lists those of no city the scorer knows.
    init(json: Data) throws {
        struct Region: Decodable {
            var names: [String]
            var countries: [String]
            var within: [String]?
        }
        struct Places: Decodable {
            var cities: [String: [String]]
            var regions: [String: Region]
            var subdivisions: [String: [String]]
            var otherNames: [[String]]?
            var statesOfCities: [String: [String]]?
            var metroAreas: [[String]]?
            var cityAbbreviations: [String: String]?
            var boroughs: [String: [String]]?
        }
        let places = try JSONDecoder().decode(Places.self, from: json)
        for (country, names) in places.cities {
            for name in names { try add(name, in: [SignalDetector.normalize(country)]) }
        }
        for region in places.regions.values where region.within == nil {
            let countries = Set(region.countries.map(SignalDetector.normalize))
            for name in region.names {
                try add(name, in: countries)
                regions[Self.folded(name)] = countries
            }
        }
        for (country, names) in places.subdivisions {
            for name in names { subdivisions[Self.folded(name)] = SignalDetector.normalize(country) }
        }
        for names in places.otherNames ?? [] {
            let keys = names.map(Self.folded)
            let countries = Set(keys.map { regions[$0] == nil ? areas[$0] : nil })
            guard countries.count == 1, let only = countries.first, only?.count == 1 else {
                throw LeadModelRuleError("the names \(names) are not all cities of one country in the gazetteer")
            }
            for key in keys { otherNamesByName[key] = keys.filter { $0 != key } }
        }
        let unitedStates = SignalDetector.normalize("united states")
        for (state, cities) in places.statesOfCities ?? [:] {
            let stateKey = Self.folded(state)
            for city in cities {
                let key = Self.folded(city)
                guard regions[key] == nil, let countries = areas[key], countries.count == 1, let country = countries.first,
                      subdivisions[stateKey].map({ $0 == country }) ?? (country == unitedStates)
                else {
                    throw LeadModelRuleError("'\(city)' is no city of the gazetteer in the country of '\(state)'")
                }
                for name in [key] + (otherNamesByName[key] ?? []) { statesByCity[name, default: []].insert(stateKey) }
            }
        }
        for (index, names) in (places.metroAreas ?? []).enumerated() {
            let keys = names.map(Self.folded)
            // Names the gazetteer lists are all cities of one country; others are the scorer's own ("New York").
            let countries = Set(keys.compactMap { regions[$0] == nil ? areas[$0] : nil })
            guard countries.count <= 1, countries.first.map({ $0.count == 1 }) ?? true, keys.allSatisfy({ regions[$0] == nil }) else {
                throw LeadModelRuleError("the metropolitan area \(names) is not of cities of one country")
            }
            for key in keys {
                for name in [key] + (otherNamesByName[key] ?? []) { metroAreasByName[name, default: []].insert(index) }
            }
        }
        for region in places.regions.values {
            guard let within = region.within else { continue }
            guard region.countries.count == 1 else {
                throw LeadModelRuleError("the region \(region.names) within a country names \(region.countries.count) countries")
            }
            let country = SignalDetector.normalize(region.countries[0])
            for name in within {
                let key = Self.folded(name)
                guard subdivisions[key] == country || (regions[key] == nil && self.areas[key] == [country])
                        || RuleBasedScorer.ownCities[key] == country
                        || (country == unitedStates && RuleBasedScorer.usStatesByName[SignalDetector.normalize(name)] != nil)
                else {
                    throw LeadModelRuleError("'\(name)' within the region \(region.names) is no state, province or city the scorer knows in \(region.countries[0])")
                }
            }
            let keys = within.map(Self.folded)
            let areas = Set(keys.flatMap { metroAreas(of: $0) })
            let names = keys + keys.flatMap { otherNames(of: $0) } + metroAreasByName.filter { !$0.value.isDisjoint(with: areas) }.keys
            let subregion = Subregion(country: country, places: Set(names),
                                      statesOfCities: Set(names.flatMap { states(ofCity: $0) }))
            for name in region.names { subregions[Self.folded(name)] = subregion }
        }
        for (city, boroughs) in places.boroughs ?? [:] {
            let key = Self.folded(city)
            guard (regions[key] == nil && areas[key]?.count == 1) || RuleBasedScorer.ownCities[key] != nil else {
                throw LeadModelRuleError("'\(city)', whose boroughs places.json lists, is no city the scorer knows")
            }
            boroughsByCity[key] = boroughs.map(Self.folded)
        }
        cityAbbreviations = places.cityAbbreviations ?? [:]
        lowercasedCityAbbreviations = Set(cityAbbreviations.keys.map { $0.lowercased() })
    }

    /// A region within one country (a region of places.json with `within`): England, New
    /// England, the Bay Area. An ICP location naming it holds the places it lists.
    struct Subregion: Sendable {
        /// Its country, normalised.
        let country: String
        /// The US states, provinces and cities in it, folded: those places.json lists, with each
        /// city's other names and the names of its metropolitan areas (for the Bay Area, San
        /// Francisco's: "Oakland", "Palo Alto", "SF", "Silicon Valley").
        let places: Set<String>
        /// The states or provinces its cities lie in (``states(ofCity:)``), folded: California
        /// for the Bay Area, which a lead in Sacramento shares with it.
        let statesOfCities: Set<String>
    }

    /// Whether `text` is one of ``cityAbbreviations`` in any case ("NYC", "nyc", "L.a.").
    func isCityAbbreviation(_ text: String) -> Bool {
        lowercasedCityAbbreviations.contains(text.lowercased())
    }

    /// The metropolitan areas (indices of ``metroAreas`` in places.json) the city named `name`
    /// is in, folded or not: none for a city of none ("Portland"), two for "Aurora". Whether two
    /// cities are of one area is ``isOneMetroArea(_:_:)`` of theirs.
    func metroAreas(of name: String) -> Set<Int> {
        metroAreasByName[Self.folded(name)] ?? []
    }

    /// Whether a city in the metropolitan areas `areas` and one in `other` (each as
    /// ``metroAreas(of:)`` gives them, read once) are of one metropolitan area: "Oakland" and
    /// "San Francisco", "Jersey City" and "New York"; not a city of none ("Portland") and any other.
    static func isOneMetroArea(_ areas: Set<Int>, _ other: Set<Int>) -> Bool {
        !areas.isDisjoint(with: other)
    }

    /// The US states or provinces the city `name` names may lie in (``statesOfCities`` in
    /// places.json), folded: "ontario" for "Toronto"; none for a name the gazetteer does not
    /// list a state for.
    func states(ofCity name: String) -> Set<String> {
        statesByCity[Self.folded(name)] ?? []
    }

    /// The boroughs of the city `name` names, folded, each of which is the city: New York
    /// City's ("manhattan", "brooklyn", ...); none for any other.
    func boroughs(of name: String) -> [String] {
        boroughsByCity[Self.folded(name)] ?? []
    }

    /// The other names of the city `name` names ("Munich" for "München", "Bangalore" for
    /// "Bengaluru"), folded; none when it has none or is no city.
    func otherNames(of name: String) -> [String] {
        otherNamesByName[Self.folded(name)] ?? []
    }

    private mutating func add(_ name: String, in countries: Set<String>) throws {
        let key = Self.folded(name)
        if let listed = areas[key], listed != countries {
            throw LeadModelRuleError("'\(name)' is in the gazetteer for \(listed.sorted()) and \(countries.sorted())")
        }
        areas[key] = countries
        self.countries.formUnion(countries)
        let words = key.split(separator: " ")
        if let first = words.first { longestNameByFirstWord[String(first)] = max(longestNameByFirstWord[String(first)] ?? 0, words.count) }
    }

    /// The areas the names in `place` stand for, each as the countries it may be in, in the
    /// order they occur ("Remote — EU": Europe's countries; "Tokyo / Seoul": Japan, then South Korea).
    func areas(in place: String) -> [Set<String>] {
        names(in: place).compactMap { areas[$0] }
    }

    /// The cities `place` names, folded, in the order they occur ("Austin / Dallas": "austin",
    /// "dallas"), its regions left out.
    func cities(in place: String) -> [String] {
        names(in: place).filter { regions[$0] == nil }
    }

    /// `place` folded, with the words of the cities it names each made a comma: what it says
    /// besides its cities ("Kansas City, MO" says ", mo"; "Southern Ontario" all of it).
    func withoutCities(_ place: String) -> String {
        reading(of: place).withoutCities
    }

    /// What the gazetteer reads in a place, found in one pass: ``areas(in:)``,
    /// ``cities(in:)`` and ``withoutCities(_:)`` of it.
    struct Reading {
        var areas: [Set<String>]
        var cities: [String]
        var withoutCities: String
    }

    /// ``Reading`` of `place`, its names looked up once.
    func reading(of place: String) -> Reading {
        reading(ofFolded: Self.folded(place))
    }

    /// ``reading(of:)`` of a place already ``folded(_:)``.
    func reading(ofFolded folded: String) -> Reading {
        let words = folded.split(separator: " ")
        var reading = Reading(areas: [], cities: [], withoutCities: "")
        var kept: [Substring] = []
        var start = 0
        for (range, name) in spans(in: words) {
            if let countries = areas[name] { reading.areas.append(countries) }
            let isCity = regions[name] == nil
            if isCity { reading.cities.append(name) }
            kept += words[start..<range.lowerBound]
            kept.append(isCity ? "," : words[range].joined(separator: " ")[...])
            start = range.upperBound
        }
        reading.withoutCities = (kept + words[start...]).joined(separator: " ")
        return reading
    }

    /// The names of ``areas`` in `place`, folded, in the order they occur.
    private func names(in place: String) -> [String] {
        spans(in: Self.folded(place).split(separator: " ")).map(\.name)
    }

    /// The names of ``areas`` among `words` (folded), each with the words it takes, in the order they occur.
    private func spans(in words: [Substring]) -> [(range: Range<Int>, name: String)] {
        var found: [(range: Range<Int>, name: String)] = []
        var start = 0
        while start < words.count {
            guard let longestName = longestNameByFirstWord[String(words[start])] else {
                start += 1
                continue
            }
            // The longest name starting here, so "New Delhi" is read once and "Mexico City" whole.
            let longest = (1...min(longestName, words.count - start)).reversed().lazy.compactMap { length -> (Int, String)? in
                let name = words[start..<start + length].joined(separator: " ")
                return self.areas[name] == nil ? nil : (length, name)
            }.first
            if let (length, name) = longest {
                found.append((start..<start + length, name))
                start += length
            } else {
                start += 1
            }
        }
        return found
    }

    /// `text` normalised (``SignalDetector/normalize(_:)``) without accents, however written
    /// ("São", "SÃO" or "Sa" + a combining tilde + "o" is "sao"); letters that are no letter plus
    /// an accent ("ø", "ł") stay.
    static func folded(_ text: String) -> String {
        var plain = text
        if !text.utf8.allSatisfy({ $0 < 0x80 }) {
            var scalars = String.UnicodeScalarView()
            scalars.append(contentsOf: text.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
                $0.properties.generalCategory != .nonspacingMark
            })
            plain = String(scalars)
        }
        // Without the padding of one space on each side.
        return String(decoding: SignalDetector.normalizedBytes(plain).dropFirst().dropLast(), as: UTF8.self)
    }
}
