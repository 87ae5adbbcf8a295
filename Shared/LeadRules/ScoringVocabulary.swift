import Foundation
import LeadModel

/// The words the rule scorer reads titles and industries with: abbreviations, the phrases naming
/// each function and seniority, and a small industry hierarchy.
///
/// The defaults are data, `Vocabulary/roles.json` and `Vocabulary/industries.json` next to this
/// file (bundled with the module; places are the ``Gazetteer``'s, `Vocabulary/places.json`); an
/// offer adds its own with ``extended(with:)``. All matching
/// is on whole words of ``SignalDetector/normalize(_:)`` text, with "&" read as "and".
public struct ScoringVocabulary: Sendable {
    /// What a job title says: its functions, its seniority and its words with abbreviations expanded.
    public struct Role: Hashable, Sendable {
        /// The functions named ("sales", "marketing", ...), possibly several ("VP Sales & Marketing").
        public var functions: Set<String>
        /// The seniority named, if any.
        public var seniority: Seniority?
        /// The title normalised with abbreviations expanded, padded with spaces (" vice president sales ").
        public var words: String

        /// Whether ``words`` contain `specialty` (a ``ScoringVocabulary/specialty(ofTitle:)``).
        func names(_ specialty: String) -> Bool {
            // ASCII is searched as bytes; other letters with Foundation's search, which also finds
            // a letter written in another Unicode form ("é" as e and an accent).
            guard words.utf8.allSatisfy({ $0 < 0x80 }), specialty.utf8.allSatisfy({ $0 < 0x80 }) else {
                return words.contains(specialty)
            }
            return firstByteIndex(of: Array(specialty.utf8), in: Array(words.utf8), from: 0) != nil
        }
    }

    private var abbreviations: [String: String]
    /// Abbreviations with several readings ("cso": chief sales, security or strategy officer),
    /// normalised; see ``role(ofTitle:context:)``.
    private var ambiguousAbbreviations: [String: [String]] = [:]
    /// ``ambiguousAbbreviations`` as they are matched: each with its readings and their
    /// functions, and the words all readings share ("chief officer"), read without a context.
    private var ambiguities: [Ambiguity] = []
    private var functionPhrases: [String: [String]]
    private var seniorityPhrases: [Seniority: [String]]
    /// Industry → the narrower industries it includes, all normalised.
    private var industryChildren: [String: [String]]
    /// The phrases of both tables, longest first (see ``role(ofTitle:context:)``), padded as they are matched.
    private var phrases: [(text: PaddedWords, functions: Set<String>, seniorities: Set<Seniority>)] = []
    /// ``abbreviations`` longest first, so "demand gen" is expanded before a shorter one inside it.
    private var abbreviationsLongestFirst: [(short: PaddedWords, long: PaddedWords)] = []
    /// Every seniority phrase, longest first, then the filler words (see ``specialty(ofTitle:)``).
    private var specialtyNoise: [PaddedWords] = []
    /// Words that are a function's phrase but everyday in a sentence ("people"), normalised,
    /// with the words after which they name it there ("team", "and culture").
    private var everydayWords: [String: [String]] = [:]
    /// Each of ``everydayWords``, padded, with the phrases that name its function in a
    /// description: it before one of its words or a seniority phrase ("people team", "people
    /// director"), after a seniority phrase ("vp people", "head of people"), or inside any
    /// longer phrase of the vocabulary ("people operations", an offer's "people success").
    private var everydayPhrases: [(word: PaddedWords, naming: [PaddedWords])] = []

    /// The bundled defaults.
    public static let standard: ScoringVocabulary = {
        do {
            return try ScoringVocabulary(
                rolesJSON: try resource("roles"), industriesJSON: try resource("industries"))
        } catch {
            fatalError("the scorer's bundled vocabulary does not load: \(error)")
        }
    }()

    /// The bundled data file `Vocabulary/<name>.json` (also the ``Gazetteer``'s).
    static func resource(_ name: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Vocabulary")
            ?? Bundle.module.url(forResource: name, withExtension: "json")
        else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Vocabulary/\(name).json"]) }
        return try Data(contentsOf: url)
    }

    /// Reads the two data files (the shapes of `Vocabulary/*.json`).
    public init(rolesJSON: Data, industriesJSON: Data) throws {
        struct Roles: Decodable {
            var abbreviations: [String: String]
            var ambiguousAbbreviations: [String: [String]]?
            var everydayWords: [String: [String]]?
            var functions: [String: [String]]
            var seniorities: [String: [String]]
        }
        struct Industries: Decodable {
            var children: [String: [String]]
        }
        let roles = try JSONDecoder().decode(Roles.self, from: rolesJSON)
        let industries = try JSONDecoder().decode(Industries.self, from: industriesJSON)
        abbreviations = [:]
        functionPhrases = [:]
        seniorityPhrases = [:]
        industryChildren = [:]
        let ambiguous = Dictionary((roles.ambiguousAbbreviations ?? [:]).map { (Self.normalize($0.key), $0.value.map(Self.normalize)) }) { first, _ in first }
        everydayWords = Dictionary((roles.everydayWords ?? [:]).map { (Self.normalize($0.key), $0.value.map(Self.normalize)) }) { first, _ in first }
        // A plain abbreviation of ambiguous letters is left out: the ambiguity is what the data says.
        try add(VocabularyExtension(
            abbreviations: roles.abbreviations.filter { ambiguous[Self.normalize($0.key)] == nil }, functions: roles.functions,
            seniorities: roles.seniorities, industries: industries.children))
        ambiguousAbbreviations = ambiguous
        readAmbiguities()
    }

    /// This vocabulary with an offer's additions; itself when there are none. An offer naming an
    /// unknown seniority does not get here (``OfferConfig/validate()`` dead-letters it); should
    /// one, the additions after it are left out.
    public func extended(with addition: VocabularyExtension?) -> ScoringVocabulary {
        guard let addition else { return self }
        var copy = self
        try? copy.add(addition)
        return copy
    }

    private mutating func add(_ addition: VocabularyExtension) throws {
        for (short, long) in addition.abbreviations ?? [:] {
            abbreviations[Self.normalize(short)] = Self.normalize(long)
            // An offer's own reading of an ambiguous one is what its titles mean.
            ambiguousAbbreviations[Self.normalize(short)] = nil
        }
        for (function, phrases) in addition.functions ?? [:] {
            functionPhrases[function, default: []] += phrases.map(Self.normalize)
        }
        for (name, phrases) in addition.seniorities ?? [:] {
            guard let seniority = Seniority(rawValue: name) else {
                throw LeadModelRuleError("unknown seniority '\(name)' in the vocabulary")
            }
            seniorityPhrases[seniority, default: []] += phrases.map(Self.normalize)
        }
        for (industry, children) in addition.industries ?? [:] {
            industryChildren[Self.normalize(industry), default: []] += children.map(Self.normalize)
        }
        // Ordered once here, not on every title a lead's scoring reads.
        phrases = Self.phraseTable(functionPhrases: functionPhrases, seniorityPhrases: seniorityPhrases)
            .map { (PaddedWords(normalized: $0.text), $0.functions, $0.seniorities) }
        abbreviationsLongestFirst = abbreviations.map { ($0.key, $0.value) }
            .sorted { ($0.0.count, $0.0) > ($1.0.count, $1.0) }
            .map { (PaddedWords(normalized: $0.0), PaddedWords(normalized: $0.1)) }
        readAmbiguities()
        let seniorityWords = Set(seniorityPhrases.values.joined()).sorted { ($0.count, $0) > ($1.count, $1) }
        specialtyNoise = (seniorityWords + ["of", "and", "the", "for", "in"]).filter { !$0.isEmpty }.map(PaddedWords.init(normalized:))
        everydayPhrases = everydayWords.sorted { $0.key < $1.key }.map { word, after in
            let padded = PaddedWords(normalized: word)
            let naming = (after + seniorityWords).map { "\(word) \($0)" } + seniorityWords.flatMap { ["\($0) \(word)", "\($0) of \(word)"] }
            let longer = phrases.map(\.text).filter { $0.contains(padded) && $0.string != padded.string }
            return (padded, naming.map(PaddedWords.init(normalized:)) + longer)
        }
    }

    /// ``ambiguities`` from ``ambiguousAbbreviations`` and the phrase table.
    private mutating func readAmbiguities() {
        ambiguities = ambiguousAbbreviations.sorted { ($0.key.count, $0.key) > ($1.key.count, $1.key) }.map { short, readings in
            let words = readings.map { $0.split(separator: " ") }
            let shared = (words.first ?? []).filter { word in words.allSatisfy { $0.contains(word) } }.joined(separator: " ")
            return Ambiguity(
                short: PaddedWords(normalized: short), unread: PaddedWords(normalized: shared.isEmpty ? short : shared),
                readings: readings.map { reading in
                    let padded = PaddedWords(normalized: reading)
                    return (padded, role(of: padded, isOneRole: true)?.functions ?? [])
                })
        }
    }

    // MARK: - Titles

    /// Normalised text with every abbreviation replaced by what it stands for, padded with spaces.
    public func expand(_ text: String) -> String {
        expandedWords(text).string
    }

    /// `text` normalised, its abbreviations expanded; an ambiguous one as ``resolved(_:in:context:)``
    /// reads it.
    private func expandedWords(_ text: String, context: Context = .descriptions([])) -> PaddedWords {
        expansion(of: text, context: context).words
    }

    /// What an ambiguous abbreviation is read with.
    private enum Context {
        /// A person's descriptions (their headline, title and bio), read for what they do now.
        case descriptions([String])
        /// An ICP's other titles, read once for all its titles.
        case otherTitles(OtherICPTitles)
    }

    /// An offer's ICP titles as each other's context, read once for all of them: how many of its
    /// distinct titles spell out each reading of an ambiguous abbreviation, and how many name
    /// each function (``role(of:isOneRole:)``, each title expanded on its own).
    private struct ICPTitles {
        var spelling: [[UInt8]: Int] = [:]
        var naming: [String: Int] = [:]
    }

    /// The context of one ICP title: the offer's other titles (``ICPTitles``, less what the title
    /// itself spells and names; a title equal to it is no context of it either).
    private struct OtherICPTitles {
        let all: ICPTitles
        let ownSpelling: Set<[UInt8]>
        let ownFunctions: Set<String>

        /// Whether another title spells `reading` out.
        func spells(_ reading: PaddedWords) -> Bool {
            all.spelling[reading.bytes, default: 0] > (ownSpelling.contains(reading.bytes) ? 1 : 0)
        }

        /// The functions the other titles name.
        var functions: Set<String> {
            Set(all.naming.compactMap { function, count in count > (ownFunctions.contains(function) ? 1 : 0) ? function : nil })
        }
    }

    /// The most bytes a text of `count` bytes grows to by its abbreviations: four times as many
    /// plus 4 KiB. A real title or description grows by a few words each; an expansion holding
    /// abbreviations is expanded in turn (an offer's "HoS" for "VP of Sales"), so an offer's
    /// chain of them ("z" for 150 "y"s, "y" for 150 "x"s, ...) grew one word to gigabytes.
    static func expandedLimit(ofBytes count: Int) -> Int { count * 4 + 4_096 }

    /// ``expandedWords(_:context:)``, with each ambiguous abbreviation it left unread and the
    /// readings still in question (those the title and context name, or all of them).
    private func expansion(of text: String, context: Context) -> (words: PaddedWords, open: [OpenAbbreviation]) {
        var words = PaddedWords(normalized: Self.normalize(text))
        // Past the limit, the occurrences left stay as written.
        let limit = Self.expandedLimit(ofBytes: words.bytes.count)
        for (short, long) in abbreviationsLongestFirst where words.contains(short) {
            words.replace(short, with: long, upTo: limit)
            // A second pass catches adjacent occurrences ("vp vp") the first one stepped over.
            words.replace(short, with: long, upTo: limit)
        }
        var open: [OpenAbbreviation] = []
        for ambiguity in ambiguities where words.contains(ambiguity.short) {
            let candidates = resolved(ambiguity, in: words, context: context)
            let reading = candidates.count == 1 ? candidates[0].text : ambiguity.unread
            if candidates.count > 1 { open.append(OpenAbbreviation(unread: ambiguity.unread, candidates: candidates)) }
            words.replace(ambiguity.short, with: reading, upTo: limit)
            words.replace(ambiguity.short, with: reading, upTo: limit)
        }
        return (words, open)
    }

    /// An abbreviation with several readings and the functions each names.
    private struct Ambiguity: Sendable {
        var short: PaddedWords
        var unread: PaddedWords
        var readings: [Reading]
    }

    private typealias Reading = (text: PaddedWords, functions: Set<String>)

    /// An ambiguous abbreviation a title left unread: the words put in its place, and the
    /// readings it may be.
    private struct OpenAbbreviation {
        var unread: PaddedWords
        var candidates: [Reading]
    }

    /// The readings of `ambiguity` that the rest of `words` and the `context` leave: the one
    /// written out there ("Chief Strategy Officer"), else those whose function they name; all of
    /// them when they name none. One reading is the one meant. A person's descriptions are read
    /// for what they do now (``present(_:)``), their everyday words as a sentence's
    /// (``withoutEverydayWords(_:)``).
    private func resolved(_ ambiguity: Ambiguity, in words: PaddedWords, context: Context) -> [Reading] {
        var own = words
        own.replace(ambiguity.short, with: ambiguity.unread)
        var named: Set<String>
        switch context {
        case .descriptions(let texts):
            let described = texts.map(present)
            let spelled = ambiguity.readings.filter { reading in ([own] + described).contains { $0.contains(reading.text) } }
            if !spelled.isEmpty { return spelled }
            named = role(of: own, isOneRole: true)?.functions ?? []
            for text in described.map(withoutEverydayWords) {
                named.formUnion(role(of: text, isOneRole: true)?.functions ?? [])
            }
        case .otherTitles(let others):
            let spelled = ambiguity.readings.filter { own.contains($0.text) || others.spells($0.text) }
            if !spelled.isEmpty { return spelled }
            named = (role(of: own, isOneRole: true)?.functions ?? []).union(others.functions)
        }
        let fitting = ambiguity.readings.filter { !$0.functions.isDisjoint(with: named) }
        return fitting.isEmpty ? ambiguity.readings : fitting
    }

    /// A person's description `text` without its clauses that start with a past marker
    /// (``startsWithPastMarker(_:)``: "ex-Chief Strategy Officer at Beta",
    /// "(formerly Twitter)"), expanded. Clauses are between `|`, `;`, commas, slashes,
    /// parentheses, dots, dashes, line ends and a sentence's full stop (after a lower-case
    /// letter: "V.P. People" is one).
    private func present(_ text: String) -> PaddedWords {
        let separators: Set<Character> = ["|", ";", ",", "/", "(", ")", "[", "]", "·", "•", "–", "—", "\n"]
        var clauses: [Substring] = []
        var start = text.startIndex
        var previous: Character?
        for index in text.indices {
            let character = text[index]
            let endsSentence = character == "." && previous?.isLowercase == true
                && text.index(after: index) < text.endIndex && text[text.index(after: index)].isWhitespace
            if separators.contains(character) || endsSentence || (character == "-" && previous?.isWhitespace == true) {
                clauses.append(text[start..<index])
                start = text.index(after: index)
            }
            previous = character
        }
        clauses.append(text[start...])
        let kept = clauses.filter { !Self.startsWithPastMarker($0) }
        return expandedWords(kept.count == clauses.count ? text : kept.joined(separator: " , "))
    }

    /// Words that make a role a past one: "Former VP Sales at Acme", "ex-CRO @Stripe",
    /// "Previously: Head of Growth".
    private static let pastMarkers: Set<String> = ["former", "formerly", "ex", "previously", "prev", "past", "retired", "erstwhile"]

    /// Whether the first word of `clause` is a past marker ("ex-Googler", "(formerly Twitter)").
    static func startsWithPastMarker(_ clause: Substring) -> Bool {
        let firstWord = clause.drop { !$0.isLetter }.prefix { $0.isLetter }
        return pastMarkers.contains(firstWord.lowercased())
    }

    /// `text`, a person's description, with each everyday word that does not name
    /// its function there barred: "people" in "products people love", not in "people team" or
    /// "VP People".
    private func withoutEverydayWords(_ text: PaddedWords) -> PaddedWords {
        var text = text
        for everyday in everydayPhrases where text.contains(everyday.word) && !everyday.naming.contains(where: text.contains) {
            text.replace(everyday.word, with: PaddedWords.bar)
        }
        return text
    }

    /// The readings of the ambiguous abbreviations `title` holds that its words and `context`
    /// leave in question ("chief sales officer", "chief security officer", ...); empty when it
    /// holds none or each is resolved.
    public func openReadings(ofTitle title: String, context: [String] = []) -> [String] {
        let raw = PaddedWords(normalized: Self.normalize(title))
        guard ambiguities.contains(where: { raw.contains($0.short) }) else { return [] }
        return expansion(of: title, context: .descriptions(context)).open.flatMap { open in
            open.candidates.map { $0.text.string.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// The functions and seniority of a job title; nil when it names neither.
    ///
    /// Function and seniority phrases are read together, longest first, and a phrase inside a
    /// longer one that matched does not count again: "vice president" is a seniority, not the
    /// "president" inside it; "revenue operations" is not also "sales". The seniority is the most
    /// senior one named ("Co-founder & CEO" is founder).
    ///
    /// An abbreviation of several readings (`ambiguousAbbreviations` in `Vocabulary/roles.json`:
    /// "CSO" is a chief sales, security or strategy officer) is the reading whose function the
    /// title's other words and `context` (the person's own descriptions: a headline, a bio) name,
    /// when they name exactly one reading's; otherwise the words all readings share ("chief
    /// officer": C-level, no function). An offer's own abbreviation of the same letters replaces
    /// the ambiguity.
    public func role(ofTitle title: String, context: [String] = []) -> Role? {
        role(of: expandedWords(title, context: .descriptions(context)), isOneRole: Self.isOneRole(title))
    }

    /// Whether `title` names one role, not several apart ("Advisor to founders | CRO at Acme"):
    /// only then is what follows an "assistant to" whom it serves (``servingTitles``).
    private static func isOneRole(_ title: String) -> Bool {
        !title.unicodeScalars.contains(where: roleSeparators.contains)
    }

    /// What separates the roles of a title of several: "|", ";", "/", "·", "•", and the dashes
    /// "–" and "—", which headlines put between roles ("Advisor to founders — CRO at Acme"), as
    /// ``present(_:)`` takes them for clause breaks (not another character outside ASCII, such as
    /// the curly apostrophe of "Acme’s CRO").
    private static let roleSeparators: Set<Unicode.Scalar> = ["|", ";", "/", "\u{00B7}", "\u{2022}", "\u{2013}", "\u{2014}"]

    /// How each of an ICP's titles is read, in their order: its role and specialty
    /// (``role(ofTitle:context:)``, ``specialty(ofTitle:)``, the title expanded once for both),
    /// or, for one whose ambiguous abbreviation the ICP's other titles leave in question, one
    /// reading per candidate, each in the abbreviation's place among the title's other words and
    /// named by all its words (no specialty: "CSO" is no "Security Officer"). The titles are read
    /// as each other's context once (``ICPTitles``): read against all the others, title by title,
    /// they cost the square of their number (1,600 titles: minutes).
    func icpReadings(ofTitles titles: [String]) -> [[(role: Role?, specialty: String?)]] {
        let readings = ambiguities.flatMap { $0.readings.map(\.text) }
        var all = ICPTitles()
        var own: [String: (spelling: Set<[UInt8]>, functions: Set<String>)] = [:]
        for title in titles where own[title] == nil {
            let words = expandedWords(title)
            let read = (spelling: Set(readings.filter(words.contains).map(\.bytes)),
                        functions: role(of: words, isOneRole: true)?.functions ?? [])
            own[title] = read
            for reading in read.spelling { all.spelling[reading, default: 0] += 1 }
            for function in read.functions { all.naming[function, default: 0] += 1 }
        }
        return titles.map { title in
            let read = own[title] ?? ([], [])
            return icpReadings(ofTitle: title, others: OtherICPTitles(all: all, ownSpelling: read.spelling, ownFunctions: read.functions))
        }
    }

    /// How one ICP title is read (``icpReadings(ofTitles:)``), with the others.
    private func icpReadings(ofTitle title: String, others: OtherICPTitles) -> [(role: Role?, specialty: String?)] {
        let (words, open) = expansion(of: title, context: .otherTitles(others))
        guard let first = open.first else {
            return [(role(of: words, isOneRole: Self.isOneRole(title)), specialty(of: words))]
        }
        return first.candidates.map { reading in
            var read = words
            read.replace(first.unread, with: reading.text)
            return (role(of: read, isOneRole: Self.isOneRole(title)), nil)
        }
    }

    private func role(of words: PaddedWords, isOneRole: Bool) -> Role? {
        // Whom the title serves is not its role: "Executive Assistant to the CEO", "Assistant to VP Sales".
        var remaining = words.truncated(before: Self.toThe)
        if isOneRole, remaining.contains(Self.to) {
            for serving in Self.servingTitles { remaining = remaining.truncated(afterServing: serving) }
        }
        var functions: Set<String> = []
        var seniorities: Set<Seniority> = []
        for phrase in phrases where remaining.contains(phrase.text) {
            functions.formUnion(phrase.functions)
            seniorities.formUnion(phrase.seniorities)
            remaining.replace(phrase.text, with: PaddedWords.bar)
        }
        guard !functions.isEmpty || !seniorities.isEmpty else { return nil }
        return Role(functions: functions, seniority: seniorities.max(), words: words.string)
    }

    private static let toThe = PaddedWords(normalized: "to the")
    private static let to = PaddedWords(normalized: "to")
    /// Titles of people who serve another, whose "to" names whom ("Advisor to VP Sales").
    private static let servingTitles = ["assistant", "advisor", "adviser", "secretary", "aide", "ea", "pa"].map(PaddedWords.init(normalized:))

    /// Every function and seniority phrase with what it names, longest first.
    private static func phraseTable(
        functionPhrases: [String: [String]], seniorityPhrases: [Seniority: [String]]
    ) -> [(text: String, functions: Set<String>, seniorities: Set<Seniority>)] {
        var table: [String: (functions: Set<String>, seniorities: Set<Seniority>)] = [:]
        for (function, texts) in functionPhrases {
            for text in texts where !text.isEmpty { table[text, default: ([], [])].functions.insert(function) }
        }
        for (seniority, texts) in seniorityPhrases {
            for text in texts where !text.isEmpty { table[text, default: ([], [])].seniorities.insert(seniority) }
        }
        return table.map { ($0.key, $0.value.functions, $0.value.seniorities) }
            .sorted { ($0.text.count, $0.text) > ($1.text.count, $1.text) }
    }

    /// An ICP title without its seniority words ("head of sales" → "sales"), expanded and padded;
    /// nil when nothing is left.
    public func specialty(ofTitle title: String) -> String? {
        specialty(of: expandedWords(title))
    }

    private func specialty(of expanded: PaddedWords) -> String? {
        var words = expanded
        for phrase in specialtyNoise {
            while words.contains(phrase) {
                words.replace(phrase, with: PaddedWords.space)
            }
        }
        return words.isBlank ? nil : words.string
    }

    // MARK: - Industries

    /// Whether a company's industry falls under an ICP industry: the same, a descendant in the
    /// hierarchy, or one containing the ICP industry's name ("Computer Software" under
    /// "software"). Never the other way: a broader industry inside the ICP's name ("Banking" for
    /// "Investment Banking") says nothing of the narrower one.
    public func industry(_ industry: String, isUnder icpIndustry: String) -> Bool {
        self.industry(industry, firstIn: scopes(ofIndustries: [icpIndustry])) != nil
    }

    /// An offer's ICP industries with every industry under them in the hierarchy, normalised:
    /// what ``industry(_:isUnder:)`` compares a company's industry with, read once per offer.
    /// Each industry under them is held once, with the ones it is directly under, however many
    /// ICP industries reach it: an offer's hierarchy may be a cycle of all its industries, and
    /// each ICP industry's own copy of it cost their product (8 million for 200 of 200).
    struct IndustryScopes: Sendable {
        /// Each ICP industry as written, with its index in ``industries``; nil when normalising
        /// leaves nothing.
        fileprivate let icp: [(name: String, index: Int?)]
        /// The ICP industries and every industry under them, each once.
        fileprivate let industries: [PaddedWords]
        /// For each of ``industries``, the indexes of those it is directly under.
        fileprivate let parents: [[Int]]

        /// How many industries it holds: the ICP's and those under them, each once.
        var heldIndustries: Int { industries.count }
        /// How many links between them it holds.
        var heldLinks: Int { parents.reduce(0) { $0 + $1.count } }
    }

    /// The ``IndustryScopes`` of an offer's ICP industries: the hierarchy under them walked once,
    /// in work and memory bounded by the industries and links it reaches.
    func scopes(ofIndustries icpIndustries: [String]) -> IndustryScopes {
        var indexes: [String: Int] = [:]
        var industries: [PaddedWords] = []
        var texts: [String] = []
        var parents: [[Int]] = []
        var frontier: [Int] = []
        func index(of text: String) -> Int {
            if let known = indexes[text] { return known }
            indexes[text] = industries.count
            industries.append(PaddedWords(normalized: text))
            texts.append(text)
            parents.append([])
            frontier.append(industries.count - 1)
            return industries.count - 1
        }
        let icp = icpIndustries.map { name -> (name: String, index: Int?) in
            let wanted = Self.normalize(name)
            return (name, wanted.isEmpty ? nil : index(of: wanted))
        }
        while let next = frontier.popLast() {
            for child in Set(industryChildren[texts[next], default: []]) {
                let childIndex = index(of: child)
                if childIndex != next { parents[childIndex].append(next) }
            }
        }
        return IndustryScopes(icp: icp, industries: industries, parents: parents)
    }

    /// The name of the first ICP industry of `scopes` that `industry` falls under (see
    /// ``industry(_:isUnder:)``): whose name, or the name of one under it, is in `industry`'s.
    func industry(_ industry: String, firstIn scopes: IndustryScopes) -> String? {
        let company = Self.normalize(industry)
        guard !company.isEmpty else { return nil }
        let companyWords = PaddedWords(normalized: company)
        // The industries named in it, then every one above them, each once.
        var isAbove = scopes.industries.map(companyWords.contains)
        var frontier = isAbove.indices.filter { isAbove[$0] }
        guard !frontier.isEmpty else { return nil }
        while let next = frontier.popLast() {
            for parent in scopes.parents[next] where !isAbove[parent] {
                isAbove[parent] = true
                frontier.append(parent)
            }
        }
        return scopes.icp.first { $0.index.map { isAbove[$0] } ?? false }?.name
    }

    /// The name of the first ICP industry of `scopes` that names all of `industry` within its
    /// own name ("Banking" in "Investment Banking", "Software" in "security software"): a
    /// broader industry, which says nothing of the narrower one either way.
    func industry(_ industry: String, broaderThanOneOf scopes: IndustryScopes) -> String? {
        let company = Self.normalize(industry)
        guard !company.isEmpty else { return nil }
        let companyWords = PaddedWords(normalized: company)
        return scopes.icp.first { $0.index.map { scopes.industries[$0].contains(companyWords) } ?? false }?.name
    }

    // MARK: - Text

    /// Lowercase letters and digits separated by single spaces, "&" read as "and", no padding.
    static func normalize(_ text: String) -> String {
        let ampersandRead = text.utf8.contains(UInt8(ascii: "&")) ? text.replacingOccurrences(of: "&", with: " and ") : text
        // The normalised text starts and ends with its one space of padding (or is that one space).
        return String(decoding: SignalDetector.normalizedBytes(ampersandRead).dropFirst().dropLast(), as: UTF8.self)
    }
}

/// Normalised text as UTF-8 bytes padded with a space on each side, so that a padded phrase
/// found in it is found as whole words. Titles are matched against hundreds of phrases each, so
/// this works on bytes rather than with Foundation's string search (the scoring stage spent a
/// fifth of its time there).
private struct PaddedWords: Sendable {
    private(set) var bytes: [UInt8]

    static let bar = PaddedWords(normalized: "|")
    static let space = PaddedWords(bytes: [0x20])

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// `normalized` (no padding) with a space added on each side.
    init(normalized: String) {
        bytes = [0x20] + Array(normalized.utf8) + [0x20]
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Only spaces.
    var isBlank: Bool { bytes.allSatisfy { $0 == 0x20 } }

    func contains(_ phrase: PaddedWords) -> Bool {
        firstIndex(of: phrase.bytes, from: 0) != nil
    }

    /// The words before the first occurrence of `phrase`, padded; all of them without one, or
    /// when it comes first.
    func truncated(before phrase: PaddedWords) -> PaddedWords {
        guard let start = firstIndex(of: phrase.bytes, from: 0), start > 0 else { return self }
        return PaddedWords(bytes: Array(bytes[..<start]) + [0x20])
    }

    /// The words up to and including `head` where `head` "to" first occurs, padded: what follows
    /// names whom the title serves. All of them without one.
    func truncated(afterServing head: PaddedWords) -> PaddedWords {
        let phrase = Array(head.bytes.dropLast()) + Array(" to ".utf8)
        guard let start = firstIndex(of: phrase, from: 0) else { return self }
        return PaddedWords(bytes: Array(bytes[..<(start + head.bytes.count)]))
    }

    /// Replaces each occurrence of `phrase`, left to right, not overlapping (as Foundation's
    /// `replacingOccurrences(of:with:)` does), as long as the text stays within `limit` bytes:
    /// the occurrences a longer replacement would take past it stay as they are.
    mutating func replace(_ phrase: PaddedWords, with replacement: PaddedWords, upTo limit: Int = .max) {
        guard var found = firstIndex(of: phrase.bytes, from: 0) else { return }
        let growth = replacement.bytes.count - phrase.bytes.count
        var length = bytes.count
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var copied = 0
        while growth <= 0 || length <= limit - growth {
            length += growth
            result.append(contentsOf: bytes[copied..<found])
            result.append(contentsOf: replacement.bytes)
            copied = found + phrase.bytes.count
            guard let next = firstIndex(of: phrase.bytes, from: copied) else { break }
            found = next
        }
        result.append(contentsOf: bytes[copied...])
        bytes = result
    }

    private func firstIndex(of needle: [UInt8], from start: Int) -> Int? {
        firstByteIndex(of: needle, in: bytes, from: start)
    }
}

/// Where `needle` first occurs in `haystack` at or after `start`: `memchr` finds each place its
/// anchor byte occurs and `memcmp` compares there. The signal detector asks this for some sixty
/// phrases in every post; a bounds-checked loop over every byte was a tenth of the scoring
/// stage's CPU. The anchor is the first byte, or the second when the first is a space: a
/// normalised phrase starts with one, as every word of a normalised text does, so anchoring on
/// it compared at every word (memcmp was a fifth of the scorer's samples).
func firstByteIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
    guard !needle.isEmpty else { return start }
    guard start >= 0, needle.count <= haystack.count - start else { return nil }
    let anchor = needle.count > 1 && needle[0] == UInt8(ascii: " ") ? 1 : 0
    let anchorByte = Int32(needle[anchor])
    return haystack.withUnsafeBufferPointer { hay in
        needle.withUnsafeBufferPointer { pattern -> Int? in
            guard let base = hay.baseAddress, let patternBase = pattern.baseAddress else { return nil }
            let last = hay.count - pattern.count  // the last place the needle can start
            var index = start
            while index <= last {
                guard let found = memchr(base + index + anchor, anchorByte, last - index + 1) else { return nil }
                index = base.distance(to: found.assumingMemoryBound(to: UInt8.self)) - anchor
                if memcmp(base + index, patternBase, pattern.count) == 0 { return index }
                index += 1
            }
            return nil
        }
    }
}
