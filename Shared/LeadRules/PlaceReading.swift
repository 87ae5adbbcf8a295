import Foundation
import LeadModel

/// A lead's place as the rule scorer reads it (``PlaceAreas``, read once per lead) and where it
/// stands against an ICP location (``placement(of:in:)``), with the vocabulary of countries, US
/// states, provinces, their codes and streets that reading uses; the cities and regions are the
/// ``Gazetteer``'s. The ICP's locations are read in ICPLocation.swift.
extension RuleBasedScorer {
    /// Whether free-text `place` is in the ICP location `wanted` ("Austin, TX" in "United States"):
    /// ``placement(of:in:)`` is ``Placement/inside``.
    static func location(_ place: SignalDetector.Phrase, isIn wanted: String) -> Bool {
        placement(of: areas(of: place), in: ICPLocation(wanted)) == .inside
    }

    /// Where a place stands against one ICP location.
    enum Placement: Equatable {
        case inside
        /// Known to be elsewhere: evidence against the ICP.
        case outside
        /// No evidence either way: a place the scorer does not know, or an area that may or may
        /// not be in the ICP location ("Remote — EU" for Germany).
        case unknown
    }

    /// A lead's place as ``placement(of:in:)`` reads it, read once per lead whatever the ICP's
    /// locations (``areas(of:)``): the areas it names, each as the countries (normalised) it may
    /// be in, the cities it names, the state or province it names, and the forms of its text
    /// the ICP locations are looked for in, so that placing it against each costs lookups only.
    struct PlaceAreas {
        /// The place as read: as written, with a part it lists that is only a city's abbreviation
        /// written out (``citiesOfAbbreviationsAlone``: "LA / NYC" is "Los Angeles / NYC";
        /// "Baton Rouge, LA" stays), a comma before a code after a name (``withCommasBeforeCodes(_:)``),
        /// and without its streets (``withoutStreets(_:)``: "Paris Avenue, New Orleans" is "New
        /// Orleans", in no country, city or state a street is named after).
        var phrase: SignalDetector.Phrase
        /// ``phrase`` without accents (``Gazetteer/folded(_:)``).
        var folded: SignalDetector.Phrase
        /// ``phrase`` without "New South Wales" and "New England", which a name of the United
        /// Kingdom's ("Wales", "England") is not in (``withoutLookalikes(_:of:)``).
        var withoutUKLookalikes: SignalDetector.Phrase
        /// The first comma-separated part of ``phrase``, and folded, where a city named as a
        /// US state is named (``HeldPlace/isNamed(in:)``); nil when it says it means the state
        /// ("Upstate New York", "New York State").
        var firstPart: (phrase: SignalDetector.Phrase, folded: SignalDetector.Phrase)?
        /// Every area named; one country when the place's last part names it (``lastPartCountry(of:)``).
        var named: [Set<String>]
        /// The country the last part names, which wins over every other name in the place:
        /// "Paris, TX" is in the United States, not in France.
        var lastPartCountry: String?
        /// Whether the scorer knows an area of the place without the ``Gazetteer``'s cities and
        /// regions: a country, a US state, another alias (London).
        var isKnownWithoutGazetteer: Bool
        /// The US state ``phrase`` names after its first part, by name or code, or as its
        /// only part (``usState(ofParts:)``), normalised.
        var usState: String?
        /// The province or state of another country ``phrase`` names after its first part
        /// (``province(ofParts:country:)``), folded.
        var province: String?
        /// ``phrase`` folded without the cities the scorer knows (``Gazetteer/withoutCities(_:)``),
        /// where a state or province is named as a place ("Southern Ontario", not "Kansas City").
        var withoutCities: SignalDetector.Phrase
        /// The cities the scorer knows that the place names outside its streets, folded
        /// (``cities(in:)``), in the order named, where the place says they are: in its last
        /// part's country and its US state or province when it names one, as far as the
        /// ``Gazetteer`` knows a city's state ("Kansas City, KS": Kansas City; not "Austin, MN",
        /// "London, Ontario" nor "Paris, TX", which name ``namesakes``).
        var cities: [String]
        /// The metropolitan areas of each of ``cities`` (``Gazetteer/metroAreas(of:)``).
        var citiesMetroAreas: [Set<Int>]
        /// The states or provinces of the ``Gazetteer``'s ``cities`` (not the scorer's own, London
        /// and New York City): empty when it lists none for one (``placementByCities(of:in:)``).
        var citiesStates: [Set<String>]
        /// The names of cities the scorer knows that the place names elsewhere than those cities
        /// are, folded: another city of the name ("austin" in "Austin, MN", "london" in "London, Ontario").
        var namesakes: [String]
        /// The US states (and DC) the place names as places outside its streets and the cities
        /// the scorer knows (``usStatesNamed(in:)``), normalised: Texas for "Austin Texas", DC
        /// for "Washington DC-Baltimore Area", West Virginia (not Virginia) for "Morgantown West
        /// Virginia", none for "Kansas City".
        var usStatesNamed: [String]
        /// Whether a part the place lists (``listedParts(of:)``) names no city the scorer knows
        /// ("Croydon" in "Manchester & Croydon", "Croydon, England", "England"): that part may
        /// be in any city.
        var hasPartNamingNoCity: Bool
        /// Whether the reading holds the place's state or province and cities (from
        /// ``firstPart`` to ``hasPartNamingNoCity``), which only ICP locations that
        /// ``ICPLocation/readsStatesAndCities`` read; without them, those are empty.
        var hasStatesAndCities: Bool
    }

    /// `place` read once for every ICP location (``PlaceAreas``): the country its last part
    /// names, else the countries, their aliases (a US state, London) and the ``Gazetteer``'s
    /// cities and regions in it; with `readingStatesAndCities` (the ICP has a location that
    /// ``ICPLocation/readsStatesAndCities``), the cities it names, the state or province it names
    /// and whether a part it lists names no city. Its streets are left out first
    /// (``withoutStreets(_:)``), and the gazetteer reads it once.
    static func areas(of written: SignalDetector.Phrase, readingStatesAndCities: Bool = true) -> PlaceAreas {
        let parts = listedParts(of: written.text)
        var text = written.text
        for part in parts.reversed() {
            if let name = citiesOfAbbreviationsAlone[String(part)] { text.replaceSubrange(part.startIndex..<part.endIndex, with: name) }
        }
        text = withCommasBeforeCodes(text)
        let place = withoutStreets(text == written.text ? written : SignalDetector.Phrase(text))
        guard readingStatesAndCities else {
            let folded = SignalDetector.Phrase(Gazetteer.folded(place.text))
            let named = namedAreas(of: place)
            return PlaceAreas(
                phrase: place, folded: folded, withoutUKLookalikes: withoutLookalikes(place, of: unitedKingdom),
                firstPart: nil, named: named.named, lastPartCountry: named.lastPartCountry,
                isKnownWithoutGazetteer: named.isKnownWithoutGazetteer, usState: nil, province: nil, withoutCities: folded,
                cities: [], citiesMetroAreas: [], citiesStates: [], namesakes: [], usStatesNamed: [], hasPartNamingNoCity: false,
                hasStatesAndCities: false)
        }
        let foldedText = Gazetteer.folded(place.text)
        let gazetteer = Gazetteer.standard.reading(ofFolded: foldedText)
        let named = namedAreas(of: place, gazetteer: gazetteer.areas)
        let folded = SignalDetector.Phrase(foldedText)
        // The state or province the place names (as placement(of:inStateOrProvince:) reads it),
        // and as the gazetteer's states of cities are written ("Perth, WA" names Western
        // Australia, not Washington).
        let commaParts = place.text.split(separator: ",").map { Gazetteer.folded(String($0)) }
        let usState = usState(ofParts: commaParts)
        let province = province(ofParts: commaParts, country: named.lastPartCountry)
        let isInUnitedStates = named.lastPartCountry.map { $0 == unitedStates } ?? true
        let state = (isInUnitedStates ? usState.map(Gazetteer.folded) : nil) ?? province
        var reading = PlaceAreas(
            phrase: place, folded: folded, withoutUKLookalikes: withoutLookalikes(place, of: unitedKingdom),
            firstPart: nil, named: named.named, lastPartCountry: named.lastPartCountry,
            isKnownWithoutGazetteer: named.isKnownWithoutGazetteer, usState: usState, province: province,
            withoutCities: SignalDetector.Phrase(gazetteer.withoutCities), cities: [], citiesMetroAreas: [], citiesStates: [],
            namesakes: [], usStatesNamed: usStatesNamed(in: gazetteer.withoutCities), hasPartNamingNoCity: false,
            hasStatesAndCities: true)
        let first = String(place.text.prefix { $0 != "," })
        if !SignalDetector.normalize(first).split(separator: " ").contains(where: stateWords.contains) {
            reading.firstPart = first == place.text ? (place, folded)
                : (SignalDetector.Phrase(first), SignalDetector.Phrase(Gazetteer.folded(first)))
        }
        for city in gazetteer.cities + ownCityPhrases.filter({ $0.occurs(in: folded) }).map(\.text) {
            let states = Gazetteer.standard.states(ofCity: city)
            if named.lastPartCountry.map(countries(ofKnownCity: city).contains) ?? true,
               state.map({ states.isEmpty || states.contains($0) }) ?? true {
                reading.cities.append(city)
                reading.citiesMetroAreas.append(Gazetteer.standard.metroAreas(of: city))
                if ownCities[city] == nil { reading.citiesStates.append(states) }
            } else {
                reading.namesakes.append(city)
            }
        }
        reading.hasPartNamingNoCity = parts.count > 1 && parts.contains { part in
            !namesNoPlace(String(part)) && Self.cities(in: withoutStreets(SignalDetector.Phrase(String(part)))).isEmpty
        }
        return reading
    }

    /// Words by which a place that names a US state's name means the state ("Upstate New York",
    /// "New York State"), not a city named as it.
    private static let stateWords: Set<Substring> = ["state", "upstate"]

    /// The areas `place` names (``PlaceAreas/named``), the country its last part names and
    /// whether the scorer knows an area of it without the gazetteer; `gazetteer`, the
    /// ``Gazetteer``'s areas in it, when read already.
    private static func namedAreas(of place: SignalDetector.Phrase, gazetteer: @autoclosure () -> [Set<String>])
        -> (named: [Set<String>], lastPartCountry: String?, isKnownWithoutGazetteer: Bool) {
        if let country = lastPartCountry(of: place.text) { return ([[country]], country, true) }
        let withoutUKLookalikes = withoutLookalikes(place, of: unitedKingdom)
        var named: [Set<String>] = aliasedCountries.filter { country in
            let place = country == unitedKingdom ? withoutUKLookalikes : place
            return locationAliases[country, default: []].contains { $0.occurs(in: place) }
        }.map { [$0] }
        named += otherCountryPhrases.filter { $0.occurs(in: place) }.compactMap { country(named: $0.text).map { Set([$0]) } }
        named += ownCityPhrases.filter { $0.occurs(in: place) }.compactMap { ownCities[$0.text].map { Set([$0]) } }
        let isKnown = !named.isEmpty
        return (named + gazetteer(), nil, isKnown)
    }

    /// ``namedAreas(of:gazetteer:)`` with the gazetteer's areas read from `place`.
    static func namedAreas(of place: SignalDetector.Phrase)
        -> (named: [Set<String>], lastPartCountry: String?, isKnownWithoutGazetteer: Bool) {
        namedAreas(of: place, gazetteer: Gazetteer.standard.areas(in: place.text))
    }

    /// The places a lead's place lists, as written and trimmed: its text between the characters
    /// that part them (any but a letter, a digit, a space, ",", ".", "'", "’", "-", "(" and ")":
    /// "/", "&", "|", "+", "·", "—", an emoji, "SF ✈️ NYC"), a "-" between spaces, and the words
    /// "and" and "or"; a place with where it lies after a comma ("Austin, TX") is one part.
    static func listedParts(of text: String) -> [Substring] {
        let bytes = text.utf8
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return listedParts(ofUnicode: text) }
        // ASCII, the common case, is read byte by byte: Character's properties cost most of the time otherwise.
        func isLetterOrDigit(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || byte >= 0x30 && byte <= 0x39 }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }
        var parts: [Substring] = []
        var words: [Range<String.Index>] = []
        var wordStart: String.Index?
        func closeWord(at end: String.Index) {
            guard let start = wordStart else { return }
            wordStart = nil
            if (2...4).contains(bytes.distance(from: start, to: end)), listConjunctions.contains(text[start..<end].lowercased()) {
                closePart()
            } else {
                words.append(start..<end)
            }
        }
        func closePart() {
            if let first = words.first, let last = words.last { parts.append(text[first.lowerBound..<last.upperBound]) }
            words = []
        }
        var index = bytes.startIndex
        var previous: UInt8 = 0x20
        while index < bytes.endIndex {
            let byte = bytes[index]
            let next = bytes.index(after: index)
            if isSpace(byte) {
                closeWord(at: index)
            } else if isLetterOrDigit(byte) || (byte == 0x2D && !(isSpace(previous) && next < bytes.endIndex && isSpace(bytes[next])))
                        || ",.'()".utf8.contains(byte) {
                if wordStart == nil { wordStart = index }
            } else {
                closeWord(at: index)
                closePart()
            }
            previous = byte
            index = next
        }
        closeWord(at: bytes.endIndex)
        closePart()
        return parts
    }

    /// ``listedParts(of:)`` of a text that is not all ASCII, read by its characters.
    private static func listedParts(ofUnicode text: String) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        func close(at end: String.Index) {
            var words: [Substring] = []
            for word in text[start..<end].split(whereSeparator: \.isWhitespace) {
                if listConjunctions.contains(word.lowercased()) {
                    if let first = words.first, let last = words.last { parts.append(text[first.startIndex..<last.endIndex]) }
                    words = []
                } else {
                    words.append(word)
                }
            }
            if let first = words.first, let last = words.last { parts.append(text[first.startIndex..<last.endIndex]) }
        }
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            let isSeparator = !(character.isLetter || character.isNumber || character.isWhitespace || ",.'’-()".contains(character))
                || (character == "-" && index > text.startIndex && text[text.index(before: index)].isWhitespace
                    && next < text.endIndex && text[next].isWhitespace)
            if isSeparator {
                close(at: index)
                start = next
            }
            index = next
        }
        close(at: text.endIndex)
        return parts
    }

    /// `text` with a comma before a US state's or a province's code that ends a part of it
    /// (between commas or what parts a list, ``listedParts(of:)``) after a name without one:
    /// "Sydney NS" is "Sydney, NS" (Nova Scotia), "Greenwich CT" "Greenwich, CT", "Hartford CT,
    /// USA" "Hartford, CT, USA". Only a code in capitals after capitalised words, in a text not
    /// all in capitals, is one ("Based in LA", "BATON ROUGE LA" stay as written).
    static func withCommasBeforeCodes(_ text: String) -> String {
        guard mayHaveCodeAfterAName(text) else { return text }
        var commas: [String.Index] = []
        let segments = text.split { !($0.isLetter || $0.isNumber || $0.isWhitespace || ".'’-".contains($0)) }
        for segment in segments {
            let words = segment.split(whereSeparator: \.isWhitespace)
            guard words.count > 1, let code = words.last, (2...3).contains(code.count), code.allSatisfy({ $0.isUppercase }),
                  words.dropLast().allSatisfy({ $0.first?.isUppercase == true }),
                  words.dropLast().contains(where: { $0.contains(where: \.isLowercase) }) else { continue }
            let normalized = SignalDetector.normalize(String(code))
            if usStatesByCode[normalized] != nil || provincesByCode[normalized] != nil { commas.append(words[words.count - 2].endIndex) }
        }
        var written = text
        for index in commas.reversed() { written.insert(",", at: index) }
        return written
    }

    /// Whether `text` has two or three capitals (ASCII, as every code is) after a space that
    /// follows a word's letter, digit or dot, and before no letter: what ``withCommasBeforeCodes(_:)``
    /// needs to find a code ("Sydney NS"; not "Austin, TX"), looked for in its bytes.
    private static func mayHaveCodeAfterAName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
        var index = 1
        while index < bytes.count {
            defer { index += 1 }
            guard isUpper(bytes[index]), bytes[index - 1] == 0x20 else { continue }
            var end = index
            while end < bytes.count, isUpper(bytes[end]) { end += 1 }
            guard (2...3).contains(end - index), end == bytes.count || !((bytes[end] | 0x20) >= 0x61 && (bytes[end] | 0x20) <= 0x7A) else { continue }
            var before = index - 1
            while before > 0, bytes[before] == 0x20 { before -= 1 }
            let byte = bytes[before]
            if (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || byte >= 0x30 && byte <= 0x39 || byte == 0x2E || byte >= 0x80 { return true }
        }
        return false
    }

    /// The cities' abbreviations (``Gazetteer/cityAbbreviations``, as written) that name the city
    /// only as a part of a place of their own ("LA / NYC", "LA", "ATL"), with the city each is
    /// written out as: those in which the scorer reads no area nor US state otherwise ("LA" is
    /// Louisiana's code only after a comma, and "la" a word of many names), not "NYC", "SF" nor
    /// "NY", which it reads as they are wherever they are written, nor "DC", the District
    /// (``usStatesNamed(in:)``; written out, "LA / DC" would end with its code).
    private static let citiesOfAbbreviationsAlone: [String: String] = Gazetteer.standard.cityAbbreviations.filter { abbreviation, _ in
        namedAreas(of: SignalDetector.Phrase(abbreviation)).named.isEmpty && usStatesNamed(in: Gazetteer.folded(abbreviation)).isEmpty
    }

    /// Where a lead's place, as ``areas(of:)`` reads it, stands against the ICP location
    /// `wanted`. For a country, a region of the ``Gazetteer`` ("EMEA", "North America") or a list
    /// of them ("US & Canada"): inside when the place names it or an area within it ("Vancouver"
    /// in Canada, "Amsterdam" in EMEA, "Austin, TX" in North America; a place whose
    /// last part is a country is in that country only: "London, Ontario, Canada" is not in the
    /// United Kingdom), outside when every area it names lies elsewhere ("Remote — EU" for the
    /// United States), else unknown ("Remote — EU" for Germany). For anything else ("Texas",
    /// "Bay Area", "London"): outside when the place's last part names a country it is not in
    /// ("London, Ontario", "Paris, TX"), inside when the place names it, outside when the scorer knows the place's
    /// country without the gazetteer or it is another country than `wanted`'s, else unknown
    /// ("USA" for Texas: the scorer knows only its country); a US state or a province of
    /// another country ("Ontario") by the place's own state or province, named or by its code
    /// ("Toronto, ON"), when it names one, else by the state of a city the scorer knows in it
    /// ("Toronto" is in Ontario, "Seattle" not in Texas). For a list of places not all
    /// countries or regions ("US & London": ``ICPLocation/places``): inside when it is in one of
    /// them, outside when it is outside every one, else unknown. For a place with where it lies
    /// (``ICPLocation/held``): outside when the place is outside where it lies ("Paris, TX" for
    /// "Paris, France", "London, Ontario" for "London, UK", "Columbus, OH" for "Austin, TX");
    /// else for a US state or country before the comma ("Texas, US"), unless it is a city named
    /// as a US state ("New York, NY": ``HeldPlace/isCityNamedAsState``), as for that state or
    /// country; else (a city, "London, UK", or a city the scorer knows alone, "London", as
    /// written with its country) inside when the place names the city, however it writes the
    /// city's country or state ("London", "London, England", "Austin, Texas"); outside when
    /// every city the scorer knows in the place is another city of another metropolitan area,
    /// the ICP's city being one it knows there (``HeldPlace/namesOnlyOtherCities(_:)``:
    /// "Manchester, UK", "Houston, TX"; not "Oakland" for "San Francisco"); and unknown
    /// otherwise: a place naming only the city's country or state, a place the scorer does not
    /// know, or a city of the same area ("United Kingdom", "Croydon, England", "Yonkers, NY"),
    /// may be in the city's area or not, as the scorer does not know where a city's area ends
    /// nor every name of a city (only the common ones, ``ICPLocation/names``: München is
    /// Munich), so it is no evidence against the ICP and gives no location points. For a region
    /// within one country ("England", "New England", "Bay Area": ``ICPLocation/subregion``), by
    /// the places it lists (``placement(of:in:named:)``).
    static func placement(of areas: PlaceAreas, in wanted: ICPLocation) -> Placement {
        if !wanted.places.isEmpty {
            let placements = wanted.places.map { placement(of: areas, in: $0) }
            if placements.contains(.inside) { return .inside }
            return placements.allSatisfy { $0 == .outside } ? .outside : .unknown
        }
        assert(areas.hasStatesAndCities || !wanted.readsStatesAndCities, "\(wanted.phrase.text) reads the place's states and cities")
        if let subregion = wanted.subregion { return placement(of: areas, in: subregion, named: wanted) }
        if let held = wanted.held {
            guard placement(of: areas, in: held.holder) != .outside else {
                if held.isNamed(in: areas), held.otherReadings.contains(where: { placement(of: areas, in: $0) == .inside }) {
                    return .unknown
                }
                // A city of the ICP city's area across a state or province line: "Jersey City" for New York City.
                return held.namesCityOfItsMetroArea(areas) ? .unknown : .outside
            }
            // The District is the city: "DC" and "Washington DC" name "Washington, DC".
            if held.holder.usState == districtOfColumbia { return placement(of: areas, in: held.holder) }
            let part = held.place
            if !held.isCityNamedAsState, part.isCountry || part.scope != nil || part.usState != nil || part.province != nil {
                return placement(of: areas, in: part)
            }
            if held.isNamed(in: areas) { return held.namesOnlyANamesake(areas) ? .outside : .inside }
            return held.namesOnlyOtherCities(areas) ? .outside : .unknown
        }
        let country = wanted.country
        if wanted.isCountry, let placeCountry = areas.lastPartCountry {
            return placeCountry == country ? .inside : .outside
        }
        // A place ending with a country, or a state or province of one, is in that country only:
        // "London, Ontario" is not in London, the United Kingdom's, nor "Tbilisi, Georgia" in the state.
        if wanted.scope == nil, let placeCountry = areas.lastPartCountry, !wanted.countries.isEmpty,
           !wanted.countries.contains(placeCountry) {
            return .outside
        }
        if wanted.usState != nil || wanted.province != nil {
            return placement(of: areas, inStateOrProvince: wanted)
        }
        if wanted.isNamed(in: areas.phrase, folded: areas.folded) || locationAliases[country, default: []].contains(where: {
            $0.occurs(in: country == unitedKingdom ? areas.withoutUKLookalikes : areas.phrase)
        }) {
            return .inside
        }
        if let scope = wanted.scope {
            if areas.named.contains(where: { $0.isSubset(of: scope) }) { return .inside }
            return !areas.named.isEmpty && areas.named.allSatisfy({ $0.isDisjoint(with: scope) }) ? .outside : .unknown
        }
        guard !areas.named.isEmpty else { return .unknown }
        if areas.isKnownWithoutGazetteer { return .outside }
        return !wanted.countries.isEmpty && areas.named.allSatisfy({ $0.isDisjoint(with: wanted.countries) }) ? .outside : .unknown
    }

    /// Where a lead's place stands against `region`, a region within one country that the ICP
    /// location `wanted` names ("England", "New England", "Bay Area"): outside when its last part
    /// names another country ("London, Ontario"); inside when it names the region ("Croydon,
    /// England"; not "Boston, New England" for England), or a state, province or city the region
    /// lists or whose states it all lists ("Boston, MA", "Boston" for New England; "Oakland, CA",
    /// "SF" for the Bay Area; "London" for England); outside when it names a state or province
    /// of none of the region's places ("Austin, TX", "NYC" for the Bay Area), only cities of none
    /// ("Los Angeles" for the Bay Area, "Glasgow" for England), another nation of the United
    /// Kingdom ("Scotland", "Wales" for England), or only areas of other countries;
    /// else unknown: a lead naming only the country or a state the region shares with other
    /// places ("California" or "Berkeley, CA" for the Bay Area), or a city of two states, one
    /// the region's ("Portland" for New England).
    private static func placement(of areas: PlaceAreas, in region: Gazetteer.Subregion, named wanted: ICPLocation) -> Placement {
        if let country = areas.lastPartCountry, country != region.country { return .outside }
        let isNamed = region.country == unitedKingdom
            ? wanted.isNamed(in: areas.withoutUKLookalikes, folded: SignalDetector.Phrase(Gazetteer.folded(areas.withoutUKLookalikes.text)))
            : wanted.isNamed(in: areas.phrase, folded: areas.folded)
        if isNamed { return .inside }
        let state = areas.usState.map(Gazetteer.folded) ?? areas.province
        let citiesStates = areas.cities.map { Gazetteer.standard.states(ofCity: $0) }
        if let state, region.places.contains(state) { return .inside }
        if areas.cities.contains(where: region.places.contains)
            || citiesStates.contains(where: { !$0.isEmpty && $0.isSubset(of: region.places) })
            || areas.usStatesNamed.contains(where: { region.places.contains(Gazetteer.folded($0)) }) {
            return .inside
        }
        if let state, !region.statesOfCities.contains(state) { return .outside }
        if !areas.cities.isEmpty, citiesStates.allSatisfy({ $0.isDisjoint(with: region.places) }) { return .outside }
        // Another nation of the United Kingdom: "Scotland" for England (not "New South Wales").
        if region.country == unitedKingdom, ukNations.contains(where: { nation in
            !wanted.names.contains { $0.text == nation.text } && nation.occurs(in: areas.withoutUKLookalikes)
        }) {
            return .outside
        }
        return !areas.named.isEmpty && areas.named.allSatisfy({ !$0.contains(region.country) }) ? .outside : .unknown
    }

    private static let otherCountryPhrases = otherCountries.sorted().map(SignalDetector.Phrase.init)
    /// The countries of ``locationAliases``, in order.
    private static let aliasedCountries = locationAliases.keys.sorted()

    /// Where a lead's place, its streets left out (``PlaceAreas/phrase``), stands against `wanted`, a
    /// US state or a province or state of another country, in the country of `wanted` or naming
    /// none: the state or province the place names after its first part, by name or code,
    /// decides ("Austin, TX" is in Texas, "Columbus, OH" is not, nor "Kansas City, MO" in
    /// Kansas, nor "Washington, D.C." in Washington; "Toronto, ON" is in Ontario); else its name
    /// as a place ("Southern Ontario", "Austin Texas"), not within a city's name the scorer knows
    /// ("Kansas City", "Virginia Beach") nor within another state's ("Washington DC", "West
    /// Virginia": ``PlaceAreas/usStatesNamed``), puts it inside; else the state of a city the
    /// scorer knows in it (``placementByCities(of:in:)``: "Toronto" is in Ontario, "Seattle" not
    /// in Texas); else another US state (or DC) it names as a place puts it outside ("Washington
    /// DC-Baltimore Area" for Washington, "Morgantown West Virginia" for Virginia); else a place
    /// elsewhere in the country may be in it or not.
    private static func placement(of areas: PlaceAreas, inStateOrProvince wanted: ICPLocation) -> Placement {
        if let wantedState = wanted.usState, let state = areas.usState {
            // "Washington" alone may be the District written short, as X users write it.
            if wantedState == districtOfColumbia, state == washington, SignalDetector.normalize(areas.phrase.text) == washington {
                return .unknown
            }
            return state == wantedState ? .inside : .outside
        }
        if let wantedProvince = wanted.province, let province = areas.province {
            return province == wantedProvince ? .inside : .outside
        }
        let withoutCities = areas.withoutCities
        if let wantedState = wanted.usState {
            // By its name, or by its code where the ICP writes it so ("CT" in "Greenwich CT").
            if areas.usStatesNamed.contains(wantedState)
                || (usStatesByCode[SignalDetector.normalize(wanted.phrase.text)] != nil && wanted.phrase.occurs(in: withoutCities)) {
                return .inside
            }
        } else if wanted.isNamed(in: withoutCities, folded: withoutCities) {
            return .inside
        }
        guard !areas.named.isEmpty else { return .unknown }
        if let placed = placementByCities(of: areas, in: wanted.usState.map(Gazetteer.folded) ?? wanted.province ?? "") {
            return placed
        }
        if wanted.usState != nil, !areas.usStatesNamed.isEmpty { return .outside }
        let countries = wanted.usState == nil ? wanted.countries : [unitedStates]
        return areas.named.contains { !$0.isDisjoint(with: countries) } ? .unknown : .outside
    }

    /// `place` without its comma-separated parts that name a street, "Ontario Street", "Michigan
    /// Ave W", "Rue Ontario": a street named after a state, a province or a city is in none of
    /// them. A part names a street when a ``streetWords`` word ends it, before directions only,
    /// or one of ``leadingStreetWords`` starts it, with other words; but a street word that is a
    /// US state's code ("CT", Court or Connecticut) ends a street only before a part that is no
    /// country ("Elm Ct, Boston") or after a house number ("12 Maple Ct"): "Stamford ct" and
    /// "Hartford Ct, USA" are in Connecticut.
    static func withoutStreets(_ place: SignalDetector.Phrase) -> SignalDetector.Phrase {
        guard namesAStreetWord(place) else { return place }
        let parts = place.text.split(separator: ",", omittingEmptySubsequences: false)
        let words = parts.map { SignalDetector.normalize(String($0)).split(separator: " ") }
        let kept = parts.indices.filter { index in
            let words = words[index]
            guard words.count > 1 else { return true }
            let named = words.reversed().drop(while: directionWords.contains)
            guard named.count > 1, let last = named.first, streetWords.contains(last) else { return !leadingStreetWords.contains(words[0]) }
            return stateCodeStreetWords.contains(last) && !(words[0].first?.isNumber ?? false)
                && parts[(index + 1)...].allSatisfy { country(named: SignalDetector.normalize(String($0))) != nil }
        }
        return kept.count == parts.count ? place : SignalDetector.Phrase(kept.map { parts[$0] }.joined(separator: ","))
    }

    /// Whether a word of `place` is one of ``streetWords`` or ``leadingStreetWords``, read in its
    /// normalised bytes: a place with none names no street (most do not).
    private static func namesAStreetWord(_ place: SignalDetector.Phrase) -> Bool {
        let needle = place.needle
        var start = needle.startIndex
        while let end = needle[start...].dropFirst().firstIndex(of: 0x20) {
            if streetWordBytes.contains(needle[(start + 1)..<end]) { return true }
            start = end
        }
        return false
    }

    /// ``streetWords`` and ``leadingStreetWords`` as bytes.
    private static let streetWordBytes: Set<ArraySlice<UInt8>> = Set(streetWords.union(leadingStreetWords).map { ArraySlice($0.utf8) })

    /// The ``streetWords`` that are a US state's code too: "ct", Connecticut's.
    private static let stateCodeStreetWords = streetWords.filter { usStatesByCode[" \($0) "] != nil }

    /// Words that end a street's name (``withoutStreets(_:)``), normalised.
    private static let streetWords: Set<Substring> = [
        "street", "st", "avenue", "ave", "av", "road", "rd", "boulevard", "blvd", "drive", "dr", "lane", "ln", "way",
        "parkway", "pkwy", "highway", "hwy", "court", "ct", "terrace", "crescent",
    ]
    /// Words that start a street's name in French, Spanish and Portuguese ("Rue Ontario", "Calle Mayor").
    private static let leadingStreetWords: Set<Substring> = ["rue", "calle", "avenida", "rua", "chemin", "boulevard", "avenue"]
    /// Directions written after a street's name ("Queen Street West", "Ontario Ave W").
    private static let directionWords: Set<Substring> = ["north", "south", "east", "west", "n", "s", "e", "w", "ne", "nw", "se", "sw"]

    /// Where the ``Gazetteer``'s cities a place names where it says they are
    /// (``PlaceAreas/cities``: not Perth in "Perth, Scotland") stand against the US state or
    /// province `wanted` (folded) by the states they lie in (``Gazetteer/states(ofCity:)``):
    /// inside when one lies in it only ("Toronto" in Ontario), outside when none may ("Seattle"
    /// for Texas), else unknown ("Portland", Oregon's or Maine's, for Oregon); nil when the place
    /// names no such city, or one whose state the gazetteer does not list.
    private static func placementByCities(of areas: PlaceAreas, in wanted: String) -> Placement? {
        let states = areas.citiesStates
        guard !states.isEmpty, !states.contains(where: \.isEmpty) else { return nil }
        if states.contains([wanted]) { return .inside }
        return states.allSatisfy { !$0.contains(wanted) } ? .outside : .unknown
    }

    /// The US state a place names after its first comma-separated part, by name or postal code
    /// ("Austin, TX, United States", "Houston, Texas"), or as its only part ("Texas"), normalised:
    /// by a name of ``usStatesByPlaceName``, so "NYC" is New York's and "DC" or "Washington DC"
    /// the District's; nil when none. "Washington" alone is the state, as LinkedIn writes a
    /// state's leads ("Washington, United States"); for an ICP of the District it is no evidence
    /// either way (``placement(of:inStateOrProvince:)``). `parts` are the place's comma-separated
    /// parts, folded (``Gazetteer/folded(_:)``).
    private static func usState(ofParts parts: [String]) -> String? {
        for part in parts.count > 1 ? Array(parts.dropFirst().reversed()) : parts {
            let part = " \(part) "
            if let state = usStatesByPlaceName[part] ?? (parts.count > 1 ? usStatesByCode[part] : nil) { return state }
        }
        return nil
    }

    /// The province or state of another country a place names after its first comma-separated
    /// part, by name ("Toronto, Ontario") or by a code of ``provincesByCode`` of the country the
    /// place is in, `country` (its ``lastPartCountry(of:)``: "Toronto, ON"; "Perth, WA" where
    /// Perth is Australia's, not "Seattle, WA"), folded; nil when none. `parts` are as for
    /// ``usState(ofParts:)``.
    private static func province(ofParts parts: [String], country: String?) -> String? {
        for name in parts.dropFirst().reversed() {
            if Gazetteer.standard.subdivisions[name] != nil { return name }
            if let named = provincesByCode[" \(name) "]?.first(where: {
                Gazetteer.standard.subdivisions[$0] == country
            }) {
                return named
            }
        }
        return nil
    }

    /// The US states (and DC) `text` names by name, normalised as ``usStatesByName``'s values,
    /// the longest name first ("west virginia", not "virginia"; "washington dc", not
    /// "washington"): a state's name, DC's ("DC", "D.C.", "Washington DC", "District of
    /// Columbia") and New York City's (``newYorkCityNames``: New York); not the other postal
    /// codes, most of which are words ("in", "or", "me"). `folded` is written as
    /// ``Gazetteer/folded(_:)`` and ``Gazetteer/withoutCities(_:)`` write (its "," a word no name has).
    static func usStatesNamed(in folded: String) -> [String] {
        let words = folded.split(separator: " ")
        var found: [String] = []
        var start = 0
        while start < words.count {
            guard let longest = usStatePlaceNameLengths[words[start]] else {
                start += 1
                continue
            }
            let match = (1...min(longest, words.count - start)).reversed().lazy.compactMap { length -> (Int, String)? in
                usStatesByPlaceName[" " + words[start..<start + length].joined(separator: " ") + " "].map { (length, $0) }
            }.first
            if let (length, state) = match {
                found.append(state)
                start += length
            } else {
                start += 1
            }
        }
        return found
    }

    /// The names ``usStatesNamed(in:)`` reads, normalised, with their state's.
    private static let usStatesByPlaceName: [String: String] = usStatesByName
        .merging(["dc", "d c", "washington dc", "washington d c"].map { (SignalDetector.normalize($0), districtOfColumbia) }) { name, _ in name }
        .merging(newYorkCityNames.map { ($0, newYork) }) { name, _ in name }
    /// Whether `normalized` (``SignalDetector/normalize(_:)``'s) is a name of the District alone:
    /// "DC", "D.C.", "Washington DC", "Washington D.C.", "District of Columbia".
    static func namesTheDistrict(_ normalized: String) -> Bool {
        usStatesByPlaceName[normalized] == districtOfColumbia
    }
    /// The first words of the names of ``usStatesByPlaceName``, with the most words of a name starting with each.
    private static let usStatePlaceNameLengths: [Substring: Int] = usStatesByPlaceName.keys.reduce(into: [:]) { lengths, name in
        let words = name.split(separator: " ")
        lengths[words[0]] = max(lengths[words[0]] ?? 0, words.count)
    }
    static let districtOfColumbia = SignalDetector.normalize("district of columbia")
    private static let washington = SignalDetector.normalize("washington")

    /// New York City's names that are no US state's (``ownCityPhrases`` in the United States),
    /// normalised: in the state of New York.
    static let newYorkCityNames = Set(ownCityPhrases.filter { ownCities[$0.text] == unitedStates }.map { SignalDetector.normalize($0.text) })
    static let newYork = SignalDetector.normalize("new york")

    /// The US states (and DC, written "DC" or "D.C.") by postal code and by name, normalised, each to its name.
    static let usStatesByCode: [String: String] = [
        "al": "alabama", "ak": "alaska", "az": "arizona", "ar": "arkansas", "ca": "california", "co": "colorado",
        "ct": "connecticut", "de": "delaware", "fl": "florida", "ga": "georgia", "hi": "hawaii", "id": "idaho",
        "il": "illinois", "in": "indiana", "ia": "iowa", "ks": "kansas", "ky": "kentucky", "la": "louisiana", "me": "maine",
        "md": "maryland", "ma": "massachusetts", "mi": "michigan", "mn": "minnesota", "ms": "mississippi", "mo": "missouri",
        "mt": "montana", "ne": "nebraska", "nv": "nevada", "nh": "new hampshire", "nj": "new jersey", "nm": "new mexico",
        "ny": "new york", "nc": "north carolina", "nd": "north dakota", "oh": "ohio", "ok": "oklahoma", "or": "oregon",
        "pa": "pennsylvania", "ri": "rhode island", "sc": "south carolina", "sd": "south dakota", "tn": "tennessee",
        "tx": "texas", "ut": "utah", "vt": "vermont", "va": "virginia", "wa": "washington", "wv": "west virginia",
        "wi": "wisconsin", "wy": "wyoming", "dc": "district of columbia", "d c": "district of columbia",
    ].reduce(into: [:]) { states, entry in
        states[SignalDetector.normalize(entry.key)] = SignalDetector.normalize(entry.value)
    }
    static let usStatesByName: [String: String] = Dictionary(
        usStatesByCode.values.map { ($0, $0) }, uniquingKeysWith: { first, _ in first })

    /// The country the last comma-separated part of `place` names, normalised, if it names one:
    /// a country's name, or its two-letter code after one of its cities (``citiesAbroad``, or the
    /// ``Gazetteer``'s there, for a code of ``countriesOfStateCodes``: "Toronto, CA", "Perth, WA").
    private static func lastPartCountry(of place: String) -> String? {
        let parts = place.split(separator: ",")
        guard let last = parts.last else { return nil }
        let name = SignalDetector.normalize(String(last))
        if parts.count > 1, let city = citiesAbroad[SignalDetector.normalize(String(parts[0]))], city.code == name {
            return city.country
        }
        // Not the codes that stay US states' here ("Berlin, DE" is read where it is written), and
        // a province's code only after a city of the province: "Perth, WA", not "Sydney, WA".
        if parts.count > 1, !codesOfCountriesToo.contains(name), let country = countriesOfStateCodes[name].map(SignalDetector.normalize),
           Gazetteer.standard.areas(in: String(parts[0])) == [[country]],
           provincesByCode[name].map({ !Gazetteer.standard.states(ofCity: String(parts[0])).isDisjoint(with: $0) }) ?? true {
            return country
        }
        // A US state's name ends a US place: "Santa Fe, New Mexico" is not in Mexico.
        if parts.count > 1, usStateNames.contains(name) { return unitedStates }
        if parts.count > 1, let country = regionCodes[name] { return country }
        // A code of a province and of a country, or of two territories: where the city is ("Regina, SK").
        if let reading = codeReading(after: place) { return country(ofReading: reading) }
        // A province or state of another country: "London, Ontario" is not in the United Kingdom.
        if parts.count > 1, let country = Gazetteer.standard.subdivisions[Gazetteer.folded(String(last))] { return country }
        return country(named: name) ?? ukCountries[name]
    }

    /// The countries of the United Kingdom, normalised, that end a place in it ("Perth,
    /// Scotland", "Cardiff, Wales"): the United Kingdom's only as where a place lies, not as an
    /// ICP's country (``countryNames``).
    private static let ukCountries: [String: String] = ["england", "scotland", "wales", "northern ireland"]
        .reduce(into: [:]) { names, name in names[SignalDetector.normalize(name)] = unitedKingdom }
    /// The names of ``ukCountries``, each a nation of the United Kingdom, as phrases.
    private static let ukNations = ukCountries.keys.sorted().map(SignalDetector.Phrase.init)

    /// Whether free text written where a place goes names none: "Everywhere 🌍", "Remote",
    /// "Planet Earth", "he/him", an emoji: no word in it but ``noPlaceWords``.
    static func namesNoPlace(_ text: String) -> Bool {
        SignalDetector.normalize(text).split(separator: " ").allSatisfy { noPlaceWords.contains($0) }
    }

    /// Whether an ICP location names no place, "Global", "Worldwide", "Remote", "Anywhere": its
    /// words are all ``icpNoPlaceWords``, fewer than an X user's (``noPlaceWords``), whose "in",
    /// "or", "at" and "on" are Indiana, Oregon, Austria and Ontario in an ICP's list.
    static func icpNamesNoPlace(_ text: String) -> Bool {
        let words = SignalDetector.normalize(text).split(separator: " ")
        return !words.isEmpty && words.allSatisfy { icpNoPlaceWords.contains($0) }
    }

    private static let icpNoPlaceWords: Set<Substring> = [
        "global", "globally", "worldwide", "world", "wide", "anywhere", "everywhere", "remote", "international",
        "internationally", "all", "any", "location", "locations", "regions", "countries",
    ]

    /// Words of what X users write as their location when it is no place.
    private static let noPlaceWords: Set<Substring> = [
        "everywhere", "anywhere", "nowhere", "somewhere", "wherever", "here", "there", "remote", "remotely", "worldwide",
        "global", "globally", "world", "the", "earth", "planet", "universe", "space", "internet", "online", "web", "cloud",
        "metaverse", "home", "on", "in", "at", "a", "road", "transit", "digital", "nomad", "he", "him", "she", "her",
        "they", "them", "his", "hers", "theirs", "and", "or",
    ]

    static let unitedStates = SignalDetector.normalize("united states")
    /// The postal codes of the US states (and DC), Canada's provinces and territories and
    /// Australia's states and territories, normalised, with their country: read only as the last
    /// part of a place ("Nashville, TN", "Vancouver, BC", "Sydney, NSW"), as most are also words
    /// ("in", "or", "me"). Not those as often a country's code there (``codesOfCountriesToo``),
    /// nor a province's code that is a country's too or two territories' (``countriesOfCodes``).
    static let regionCodes: [String: String] = usStatesByCode.keys.filter { !codesOfCountriesToo.contains($0) }
        .reduce(into: [:]) { codes, code in codes[code] = unitedStates }
        // "WA" stays Washington's.
        .merging(provincesByCode.compactMapValues { provinces in
            countriesOfCodes(provinces).count == 1 ? Gazetteer.standard.subdivisions[provinces[0]] : nil
        }.filter { countriesByProvinceCode[$0.key] == nil }) { state, _ in state }
    /// The postal codes of Canada's provinces and territories and Australia's states and
    /// territories people write after a city, normalised, with the names of the provinces or
    /// states each stands for as the ``Gazetteer``'s subdivisions hold them: one but for "NT",
    /// the Northwest Territories' and the Northern Territory's.
    static let provincesByCode: [String: [String]] = [
        "ab": ["alberta"], "bc": ["british columbia"], "mb": ["manitoba"], "nb": ["new brunswick"], "ns": ["nova scotia"],
        "on": ["ontario"], "qc": ["quebec"], "sk": ["saskatchewan"], "nl": ["newfoundland and labrador"],
        "pe": ["prince edward island"], "pei": ["prince edward island"], "nt": ["northwest territories", "northern territory"],
        "nwt": ["northwest territories"], "yt": ["yukon"], "nu": ["nunavut"], "nsw": ["new south wales"], "vic": ["victoria"],
        "qld": ["queensland"], "tas": ["tasmania"], "wa": ["western australia"], "sa": ["south australia"],
        "act": ["australian capital territory"],
    ].reduce(into: [:]) { codes, entry in codes[SignalDetector.normalize(entry.key)] = entry.value }
    /// The codes of ``provincesByCode`` that are as often a country's code after a city,
    /// normalised, with the countries' names: "SK" Slovakia, "NL" the Netherlands, "PE" Peru, "SA"
    /// Saudi Arabia (and South Africa as people write it). Such a code, and "NT", is read as the
    /// country or province in which the scorer knows the city before it (``codeReading(after:)``).
    private static let countriesByProvinceCode: [String: [String]] = [
        "sk": ["slovakia"], "nl": ["netherlands"], "pe": ["peru"], "sa": ["saudi arabia", "south africa"],
    ].reduce(into: [:]) { codes, entry in codes[SignalDetector.normalize(entry.key)] = entry.value.map(SignalDetector.normalize) }

    /// The countries of the provinces `provinces` (folded names of the ``Gazetteer``'s subdivisions).
    static func countriesOfCodes(_ provinces: [String]) -> Set<String> {
        Set(provinces.compactMap { Gazetteer.standard.subdivisions[$0] })
    }

    /// The places a code after a place's comma may stand for when it is a province's or
    /// territory's code (``provincesByCode``; not a US state's, whose readings are
    /// ``countriesOfStateCodes``'), each as a country's name (normalised) or a province's
    /// (folded), the countries first: for "SK", Slovakia and Saskatchewan. Empty when it is none.
    static func readings(ofCode code: String) -> [String] {
        guard usStatesByCode[code] == nil, let provinces = provincesByCode[code] else { return [] }
        return (countriesByProvinceCode[code] ?? []) + provinces
    }

    /// The places `after`, what follows a place's first comma, stands for when it starts with a
    /// province's or territory's code (``readings(ofCode:)``), each written out ("SK, Canada":
    /// "saskatchewan, Canada"): those in the country the rest of `after` names, else those in
    /// the one country the scorer knows the city `city` in, else all of them, a country first.
    /// Empty when `after` starts with no such code.
    static func readings(ofCodeIn after: String, city: String) -> [String] {
        let parts = after.split(separator: ",", omittingEmptySubsequences: false)
        let all = readings(ofCode: SignalDetector.normalize(String(parts[0])))
        guard !all.isEmpty else { return [] }
        let rest = parts.dropFirst().joined(separator: ",")
        let context: Set<String>
        if SignalDetector.Phrase(rest).isBlank {
            context = countries(namedIn: city)
        } else {
            let location = ICPLocation(rest, isWhereAPlaceLies: true)
            context = location.isCountry ? [location.country] : location.countries
        }
        let narrowed = context.count == 1 ? all.filter { context.contains(country(ofReading: $0)) } : []
        return (narrowed.isEmpty ? all : narrowed).map { rest.isEmpty ? $0 : $0 + "," + rest }
    }

    /// The country (normalised) of a reading of ``readings(ofCode:)``.
    static func country(ofReading reading: String) -> String {
        Gazetteer.standard.subdivisions[reading] ?? reading
    }

    /// The one reading of the code that ends `place` ("Regina, SK") that the scorer knows the
    /// place's first part in as a city, as ``readings(ofCode:)`` gives it: "saskatchewan" for
    /// "Regina, SK", "slovakia" for "Bratislava, SK", "northern territory" for "Darwin, NT"; nil
    /// when the code is no province's, or the scorer knows the city in none of the readings'
    /// countries or in two ("Moose Jaw, SK").
    private static func codeReading(after place: String) -> String? {
        let parts = place.split(separator: ",")
        guard parts.count > 1, let last = parts.last else { return nil }
        let all = readings(ofCode: SignalDetector.normalize(String(last)))
        guard !all.isEmpty else { return nil }
        let known = Gazetteer.standard.areas(in: String(parts[0]))
        let readings = all.filter { known == [[country(ofReading: $0)]] }
        return Set(readings.map(country(ofReading:))).count == 1 ? readings.first : nil
    }
    /// The codes of ``usStatesByCode`` that are as often a country's code after a place: DE
    /// (Germany), IN (India), AR (Argentina), ID (Indonesia).
    private static let codesOfCountriesToo = Set(["de", "in", "ar", "id"].map(SignalDetector.normalize))
    /// The US states' names (not their codes, nor DC's), normalised.
    private static let usStateNames = Set(usStatesByName.keys).subtracting([SignalDetector.normalize("district of columbia")])

    /// Cities of the countries whose two-letter code is also a US state's postal code that the
    /// ``Gazetteer`` does not list (places.json leaves Halifax, Cali and Cartagena out as names of
    /// places elsewhere too), with that code and the country, normalised, read only before the
    /// code or the country's name: "Cali, CO" is in Colombia, "Fremantle, WA" in Australia, while
    /// "San Diego, CA" stays in the United States. The gazetteer's cities there are read so too
    /// (``lastPartCountry(of:)``: "Toronto, CA", "Tel Aviv, IL").
    static let citiesAbroad: [String: (code: String, country: String)] = [
        ("ca", "canada", ["halifax"]),
        ("il", "israel", ["ramat gan", "petah tikva", "beersheba", "be'er sheva"]),
        ("co", "colombia", ["cali", "cartagena"]),
        ("ma", "morocco", ["tangier"]),
        ("pa", "panama", ["panama city", "panamá"]),
        ("wa", "australia", ["fremantle"]),
        // The country Georgia, not the state.
        ("georgia", "georgia", ["tbilisi", "batumi", "kutaisi", "rustavi"]),
    ].reduce(into: [:]) { cities, entry in
        let (code, country, names) = entry
        for name in names {
            cities[SignalDetector.normalize(name)] = (SignalDetector.normalize(code), SignalDetector.normalize(country))
        }
    }

    /// The country `normalized` (``SignalDetector/normalize(_:)``'s) names by the scorer's name
    /// for it or another of its names (``countryNames``: "usa", "uk", "türkiye"), as the scorer
    /// names it; nil when it names none. How an ICP location, a list of countries and a place's
    /// last part are read as a country.
    static func country(named normalized: String) -> String? {
        let country = countryNames[normalized] ?? normalized
        return isCountry(country) ? country : nil
    }

    /// Whether `normalized` is a country's name as the scorer names it (``country(named:)`` reads
    /// its other names too): one of its own or one of the ``Gazetteer``'s cities or regions
    /// (Costa Rica, which only LATAM lists).
    static func isCountry(_ normalized: String) -> Bool {
        otherCountries.contains(normalized) || locationAliases[normalized] != nil || Gazetteer.standard.countries.contains(normalized)
    }

    /// Regions named after a part of the United Kingdom elsewhere: New England is in the United
    /// States, New South Wales in Australia.
    private static func withoutLookalikes(_ place: SignalDetector.Phrase, of country: String) -> SignalDetector.Phrase {
        guard country == unitedKingdom, ukLookalikes.contains(where: { $0.occurs(in: place) }) else { return place }
        let text = SignalDetector.normalize(place.text)
        return SignalDetector.Phrase(text.replacingOccurrences(of: " new south wales ", with: " ")
            .replacingOccurrences(of: " new england ", with: " "))
    }

    private static let ukLookalikes = ["new south wales", "new england"].map(SignalDetector.Phrase.init)
    static let unitedKingdom = SignalDetector.normalize("united kingdom")

    /// Countries besides those with aliases, normalised, that LinkedIn and X places end with.
    private static let otherCountries: Set<String> = Set([
        "australia", "new zealand", "canada", "ireland", "india", "germany", "france", "spain", "portugal", "italy",
        "netherlands", "belgium", "luxembourg", "switzerland", "austria", "sweden", "norway", "denmark", "finland",
        "iceland", "poland", "czechia", "czech republic", "slovakia", "hungary", "romania", "bulgaria", "greece",
        "croatia", "serbia", "slovenia", "estonia", "latvia", "lithuania", "ukraine", "turkey", "türkiye", "israel",
        "united arab emirates", "uae", "saudi arabia", "qatar", "egypt", "south africa", "nigeria", "kenya", "ghana",
        "morocco", "brazil", "mexico", "argentina", "chile", "colombia", "peru", "uruguay", "japan", "china",
        "south korea", "korea", "taiwan", "hong kong", "singapore", "malaysia", "indonesia", "philippines",
        "thailand", "vietnam", "pakistan", "bangladesh", "sri lanka",
    ].map(SignalDetector.normalize))

    /// Other names of the ICP locations that have them, keyed by the location normalised.
    /// Not "america" alone: Latin and South America are not the United States.
    static let locationAliases: [String: [SignalDetector.Phrase]] = [
        "united states": ["united states", "usa", "us", "u s", "u s a", "united states of america", "new england"] + usStates,
        "united kingdom": ["united kingdom", "uk", "u k", "england", "scotland", "wales", "great britain", "britain"],
    ].reduce(into: [:]) { aliases, entry in
        aliases[SignalDetector.normalize(entry.key)] = entry.value.map(SignalDetector.Phrase.init)
    }

    /// The short and long names an ICP may give a country with aliases, normalised, to the key
    /// of ``locationAliases``: an ICP of "USA" takes what one of "United States" takes.
    static let countryNames: [String: String] = [
        "usa": "united states", "us": "united states", "u s": "united states", "u s a": "united states",
        "united states of america": "united states", "america": "united states",
        "uk": "united kingdom", "u k": "united kingdom", "great britain": "united kingdom", "britain": "united kingdom",
        // As the gazetteer's regions and cities name them.
        "uae": "united arab emirates", "czech republic": "czechia", "korea": "south korea", "türkiye": "turkey",
    ].reduce(into: [:]) { names, entry in
        names[SignalDetector.normalize(entry.key)] = SignalDetector.normalize(entry.value)
    }

    /// US state names and the postal codes that are not also common words.
    private static let usStates = [
        "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut", "delaware", "florida",
        "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas", "kentucky", "louisiana", "maine",
        "maryland", "massachusetts", "michigan", "minnesota", "mississippi", "missouri", "montana", "nebraska",
        "nevada", "new hampshire", "new jersey", "new mexico", "new york", "north carolina", "north dakota", "ohio",
        "oklahoma", "oregon", "pennsylvania", "rhode island", "south carolina", "south dakota", "tennessee", "texas",
        "utah", "vermont", "virginia", "washington", "west virginia", "wisconsin", "wyoming", "ca", "tx", "ny", "nj",
        "wa", "ma", "il", "fl", "co", "ga", "nc", "va", "az", "pa", "mn", "ut",
    ]
}
