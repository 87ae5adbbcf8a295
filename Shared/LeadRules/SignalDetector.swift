import Foundation
import LeadModel

/// Finds buying signals in a lead's posts and orbit, against one offer.
///
/// Matching is case-insensitive on whole words: text and phrases are reduced to lowercase
/// letters and digits separated by single spaces, so "Outbound-automation!" matches the phrase
/// "outbound automation" but "prospecting" does not match "pro".
public struct SignalDetector: Sendable {
    /// A kind of signal (``BuyingSignal/Kind``).
    public typealias Kind = BuyingSignal.Kind
    /// One detected signal (``BuyingSignal``).
    public typealias Signal = BuyingSignal

    /// Phrases of someone asking for a tool (not of someone recommending one: "I'd recommend a").
    /// This and the other phrase lists of asking, switching and events are not said where a
    /// negation comes before them (``negations``): "Not looking for a tool", "we're not hiring a".
    public static let recommendationPhrases = [
        "any recommendations", "can anyone recommend", "can you recommend", "could anyone recommend", "could you recommend",
        "would you recommend", "would anyone recommend", "does anyone recommend",
        "looking for a tool", "looking for a platform", "looking for recommendations", "what tools", "what tool",
        "which tool", "which tools", "what do you use for", "anyone using",
    ]
    /// Words that ask for a tool only in a question ("Recommendations for a dialer?", "Any
    /// suggestions?"): in a statement they give advice ("My top recommendations for new SDR managers").
    public static let askedRecommendationPhrases = ["recommendations", "suggestions"]
    /// Phrases of someone leaving a tool ("replacing" alone is a laptop as often as a vendor).
    public static let switchingPhrases = [
        "alternative to", "alternatives to", "switching from", "switch from", "moving away from", "replacing our",
        "replace our", "looking to replace", "need to replace", "cancelled our", "canceling our", "cancelling our",
    ]
    /// Complaints, which are a switch only in a post that names a competitor or what the offer
    /// is about (a product keyword, a pain point, a custom keyword): "fed up with Salesloft",
    /// not "fed up with my airline".
    public static let complaintPhrases = ["fed up with", "frustrated with"]
    /// Phrases of hiring.
    public static let hiringPhrases = ["we are hiring", "we re hiring", "hiring a", "hiring for", "join our team", "open roles", "now hiring"]
    /// Phrases of funding ("raised" alone is also where someone grew up).
    public static let fundingPhrases = [
        "we raised", "just raised", "we ve raised", "we have raised", "has raised", "have raised", "raised our", "raised its",
        "raised their", "seed round", "funding round", "ipo", "went public",
    ]
    /// Rounds by name, funding only beside a word of money (``moneyPhrases``) or a currency sign:
    /// "our Series A, led by ...", not "the series a friend recommended".
    public static let seriesPhrases = ["series a", "series b", "series c", "series d", "series e"]
    /// Words that make a named round funding.
    public static let moneyPhrases = [
        "raised", "raise", "round", "funding", "funded", "led by", "investor", "investors", "investment", "million", "closed",
        "our series", "announce", "announcing", "valuation",
    ]
    /// Phrases of a launch.
    public static let launchPhrases = ["we launched", "just launched", "launching today", "product launch", "now live"]
    /// Words that, among the ``negationDistance`` words before a phrase in its clause, say the
    /// opposite of it: "not", "no", "never" and the "n't" forms, normalised ("don't" is "don t",
    /// read as a "t" after a word ending in "n"). Some are none (``negationExemptions``,
    /// ``negatedComparatives``).
    public static let negations: Set<Substring> = [
        "not", "no", "never", "nor", "cannot", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "wont", "cant",
        "havent", "hasnt",
    ]
    /// Negations with the words after them that say no opposite, normalised ("no-code" is "no
    /// code", "can't" is "can t"): "We're not just hiring", "No doubt we're hiring", "Can't
    /// believe we just launched".
    public static let negationExemptions = [
        "not only", "not just", "not merely", "no doubt", "no code", "no brainer", "cannot believe", "cant believe",
        "can t believe", "couldn t believe",
    ]
    /// Words that, between "never", "can't" or "couldn't" and a phrase, make the negation a
    /// superlative ("Never been more frustrated with", "Couldn't be more frustrated with", "Never
    /// been so frustrated with"); after another negation they do not ("No more open roles", "not
    /// so frustrated", "aren't so frustrated").
    public static let negatedComparatives: Set<Substring> = ["more", "so"]
    /// How many words before a phrase a negation cancels it from.
    public static let negationDistance = 3
    /// Phrases of building it yourself. "In house" alone is not one (an in-house team buys
    /// tools); with a word of building in the same post (``inHouseBuildWords``) and a thing of
    /// the offer's kind beside it (``inHouseThingWords``) it is, unless a negation comes before
    /// it ("We chose not to build in-house tooling").
    /// Not "we built a": a playbook, a checklist, a team.
    public static let inHousePhrases = ["building our own", "built our own", "build our own", "homegrown", "home grown"]
    /// Words that make "in house" a build: "we built our tooling in house".
    public static let inHouseBuildWords = ["build", "built", "building", "develop", "developed", "developing"]
    /// Things the offer is a kind of, which "in house" must be said of to be a build: "our
    /// tooling in house", "an in-house platform", or one of the offer's product keywords. Within
    /// ``inHouseThingDistance`` words of it; "building out our in-house SDR team" builds a team,
    /// which buys tools, and so does "our in-house product marketing team" (``inHouseTeamWords``).
    public static let inHouseThingWords = [
        "tool", "tools", "tooling", "platform", "platforms", "system", "systems", "software", "app", "apps", "solution",
        "stack", "engine", "product",
    ]
    /// How many words before or after "in house" a thing of ``inHouseThingWords`` may be.
    public static let inHouseThingDistance = 3
    /// Words that, within ``inHouseTeamDistance`` words after a thing, make it a team's name: "our
    /// in-house product marketing team", "an in-house platform engineering org" build a team.
    public static let inHouseTeamWords = ["team", "teams", "org", "orgs", "department", "departments"]
    /// Words after a thing that start another phrase, so that a team after them is not the
    /// thing's name: "an in-house platform for teams".
    static let joiningWords = ["for", "to", "of", "with", "and", "or", "that", "which", "so", "our", "the", "a", "an", "across"]
    /// How many words after a thing a word of ``inHouseTeamWords`` may be.
    public static let inHouseTeamDistance = 2
    /// Names of software products that are everyday words of posts and bios: sales and
    /// marketing tools ("cold outreach", "reply rates", "close the deal", "ring the gong", "clay
    /// pots"), and those of the other fields an offer may compete in: people and hiring ("pull
    /// the lever", "a greenhouse", "a lattice"), data ("a snowflake", "census data"),
    /// collaboration ("some slack", "zoom through it"), finance, engineering and security. A
    /// competitor so named is mentioned in free text only where it is written as a name
    /// (``isWrittenAsName(_:in:)``); other competitors count however they are written. A name
    /// that is also capitalised as a word ("Monday") is still read as the competitor.
    public static let everydayNames: Set<String> = [
        // sales and marketing
        "outreach", "close", "reply", "gong", "clay", "drift", "front", "chorus", "instantly", "seamless", "hunter", "groove",
        "attention", "copper", "notion", "loom", "lavender", "nooks", "common room", "intercom", "segment", "amplitude", "heap",
        // people and hiring
        "lever", "greenhouse", "lattice", "gusto", "rippling", "workday", "bamboo", "culture amp",
        // data and analytics
        "snowflake", "looker", "census", "sigma", "mode", "hex",
        // collaboration and work
        "slack", "zoom", "monday", "linear", "box", "basecamp", "shortcut", "height",
        // finance and payments
        "ramp", "mercury", "pilot", "bench", "square", "stripe", "plaid",
        // engineering and security
        "sentry", "honeycomb", "wiz", "orca", "vault", "snyk",
    ]

    /// A phrase with its normalised UTF-8 bytes, made once rather than for every post (or every
    /// skill, location or company it is compared with).
    struct Phrase: Sendable {
        let text: String
        /// ``normalize(_:)`` of `text`, as bytes.
        let needle: [UInt8]

        init(_ text: String) {
            self.text = text
            needle = SignalDetector.normalizedBytes(text)
        }

        /// Whether the phrase occurs as whole words in normalised text (see ``contains(normalized:phrase:)``).
        func occurs(in normalized: [UInt8]) -> Bool {
            needle.count > 2 && SignalDetector.containsBytes(normalized, needle)
        }

        /// Whether the phrase occurs as whole words in `other`.
        func occurs(in other: Phrase) -> Bool {
            occurs(in: other.needle)
        }

        /// Whether the text has no letters or digits.
        var isBlank: Bool { needle.count <= 2 }
    }

    private static let recommendation = recommendationPhrases.map(Phrase.init)
    private static let switching = switchingPhrases.map(Phrase.init)
    private static let complaint = complaintPhrases.map(Phrase.init)
    private static let hiring = hiringPhrases.map(Phrase.init)
    private static let funding = fundingPhrases.map(Phrase.init)
    private static let series = seriesPhrases.map(Phrase.init)
    private static let money = moneyPhrases.map(Phrase.init)
    private static let launch = launchPhrases.map(Phrase.init)
    private static let askedRecommendation = askedRecommendationPhrases.map(Phrase.init)
    private static let inHouseMention = Phrase("in house")
    /// The ``inHousePhrases`` of building one's own, and of having one's own tool.
    private static let ownBuild = inHousePhrases.filter { $0.contains("our own") }.map(Phrase.init)
    private static let homegrown = inHousePhrases.filter { !$0.contains("our own") }.map(Phrase.init)

    /// Whether a post's signals ask for another tool: a request for one, or a switch from
    /// something that is not a competitor (their own tool).
    private static func replacesOwnTool(_ signals: ArraySlice<Signal>) -> Bool {
        signals.contains { $0.kind == .recommendationRequest }
            || (signals.contains { $0.kind == .switchingIntent } && !signals.contains { $0.kind == .competitorMention })
    }
    private static let inHouseBuild = inHouseBuildWords.map(Phrase.init)
    private static let inHouseThing = inHouseThingWords.map(Phrase.init)

    private let painPoints: [Phrase]
    private let competitors: [Phrase]
    /// The competitors named by ``everydayNames``.
    private let everydayCompetitors: Set<String>
    /// The competitors' names as ``corporateName(_:)`` reads them (blank ones left out).
    private let competitorNames: [(text: String, name: String)]
    private let customKeywords: [Phrase]
    /// The offer's product keywords, then its pain points: what an in-house build is about.
    private let offerTopics: [Phrase]
    /// The offer's product keywords: things of its kind that "in house" may be said of.
    private let offerProducts: [Phrase]
    /// The competitors as an orbit target's name or handle names them.
    private let orbitCompetitors: ActivityBuilder.Competitors

    /// A detector for `offer`.
    public init(offer: OfferConfig) {
        painPoints = offer.icp.painPoints.map(Phrase.init)
        let brands = offer.icp.competitors.map(Self.brand)
        competitors = brands.map(Phrase.init)
        everydayCompetitors = Set(brands.filter {
            Self.everydayNames.contains(Self.normalize($0).trimmingCharacters(in: .whitespaces))
        })
        competitorNames = offer.icp.competitors.map { ($0, Self.corporateName($0)) }.filter { !$0.name.isEmpty }
        customKeywords = offer.icp.customIntentKeywords.map(Phrase.init)
        offerProducts = offer.productKeywords.map(Phrase.init)
        offerTopics = offerProducts + painPoints
        orbitCompetitors = ActivityBuilder.Competitors(offer.icp.competitors)
    }

    /// Signals in posts, in post order; one signal per kind and matched phrase per post, and a
    /// post and its copies read once (``withoutCopies(_:)``).
    public func signals(in posts: [Post]) -> [Signal] {
        var found: [Signal] = []
        for (post, text) in Self.withoutCopies(posts) {
            func add(_ kind: Kind, _ phrases: [Phrase]) {
                for phrase in phrases where phrase.occurs(in: text) {
                    found.append(Signal(kind: kind, detail: phrase.text, date: post.date, postID: post.id))
                }
            }
            // The post's clauses and its sentences, each read once and only for a post holding a
            // phrase that a negation or a question decides.
            var clauses: [Clause]?
            var sentences: [Clause]?
            func readSentences() -> [Clause] {
                let read = sentences ?? Self.clauses(of: post.text, splittingClauses: false)
                sentences = read
                return read
            }
            func says(_ phrase: Phrase, askedOnly: Bool = false) -> Bool {
                guard phrase.occurs(in: text) else { return false }
                let read = clauses ?? Self.clauses(of: post.text)
                clauses = read
                guard read.contains(where: { phrase.occurs(in: $0.words) }) else {
                    // A phrase across the end of a clause ("Looking for: a tool", "Hiring — a
                    // Founding AE") is read in its sentence; across the end of a sentence ("not
                    // hiring. A lot") it is not said.
                    return Self.says(phrase, in: readSentences(), askedOnly: askedOnly)
                }
                return Self.says(phrase, in: read, askedOnly: askedOnly)
            }
            // The first of `phrases` the post says, as a signal of `kind`; whether there was one.
            @discardableResult
            func addFirstSaid(_ kind: Kind, _ phrases: [Phrase], askedOnly: Bool = false) -> Bool {
                guard let phrase = phrases.first(where: { says($0, askedOnly: askedOnly) }) else { return false }
                found.append(Signal(kind: kind, detail: phrase.text, date: post.date, postID: post.id))
                return true
            }
            let before = found.count
            add(.painPoint, painPoints)
            for competitor in competitors where competitor.occurs(in: text) && isMentioned(competitor, in: post.text) {
                found.append(Signal(kind: .competitorMention, detail: competitor.text, date: post.date, postID: post.id))
            }
            if !addFirstSaid(.recommendationRequest, Self.recommendation) {
                addFirstSaid(.recommendationRequest, Self.askedRecommendation, askedOnly: true)
            }
            addFirstSaid(.switchingIntent, Self.switching)
            // A complaint, looked for only when it is there, then its subject.
            if !found[before...].contains(where: { $0.kind == .switchingIntent }),
               let complaint = Self.complaint.first(where: { says($0) }),
               found[before...].contains(where: { $0.kind == .competitorMention })
                || offerTopics.contains(where: { $0.occurs(in: text) }) || customKeywords.contains(where: { $0.occurs(in: text) }) {
                found.append(Signal(kind: .switchingIntent, detail: complaint.text, date: post.date, postID: post.id))
            }
            add(.customKeyword, customKeywords)
            addFirstSaid(.hiring, Self.hiring)
            addFirstSaid(.funding, Self.funding)
            // A named round, looked for only when it is there, then a word of money beside it.
            if !found[before...].contains(where: { $0.kind == .funding }),
               let round = Self.series.first(where: { says($0) }),
               Self.money.contains(where: { $0.occurs(in: text) }) || post.text.utf8.contains(where: { $0 == UInt8(ascii: "$") })
                || post.text.contains("€") || post.text.contains("£") {
                found.append(Signal(kind: .funding, detail: round.text, date: post.date, postID: post.id))
            }
            addFirstSaid(.productLaunch, Self.launch)
            // Building it ("built our own", "building our tooling in house": "in house" alone, as
            // in "building it in house", is said of no thing), or a tool of their own they
            // have ("homegrown"). Only the latter can be one they want to replace: "Our homegrown
            // platform keeps breaking, any recommendations?" is no build; "Frustrated with manual
            // prospecting, so we built our own" and "Fed up with Outreach. Building our own" are.
            let building = Self.ownBuild.contains { says($0) }
                || (says(Self.inHouseMention) && Self.inHouseBuild.contains { $0.occurs(in: text) }
                    && readSentences().contains { saysInHouseOfAThing($0.words) })
            let hasOwnTool = !building && Self.homegrown.contains { $0.occurs(in: text) }
            if building || (hasOwnTool && !Self.replacesOwnTool(found[before...])),
               let topic = offerTopics.first(where: { $0.occurs(in: text) }) {
                found.append(Signal(kind: .inHouseBuild, detail: topic.text, date: post.date, postID: post.id))
            }
        }
        return found
    }

    /// A clause of a post: its words normalised, and whether its sentence asks (ends with "?").
    struct Clause {
        let words: [UInt8]
        let asks: Bool
        /// Where each clause starts in `words` (the offset of its leading space): one, at 0, but
        /// for a sentence read whole (``clauses(of:splittingClauses:)`` without splitting), where
        /// a negation counts only in the clause a phrase starts in.
        var clauseStarts: [Int] = [0]

        /// Where the clause holding the byte at `index` starts.
        func clauseStart(at index: Int) -> Int {
            clauseStarts.last { $0 <= index } ?? 0
        }
    }

    /// Words a full stop follows within a sentence ("e.g.", "vs."), lowercase, without their last
    /// full stop.
    static let abbreviations: Set<String> = ["e.g", "eg", "i.e", "ie", "vs", "approx", "mr", "mrs", "ms", "dr"]
    /// Words that end with a full stop within a sentence or at its end ("Acme Inc.", "etc."),
    /// lowercase, without their last full stop; like a single capital ("U.S.", "J."), they end
    /// the sentence only before a word that starts one (``sentenceStarts``).
    static let closingAbbreviations: Set<String> = ["inc", "ltd", "corp", "etc", "co"]
    /// Words that, capitalised after "U.S." or "Inc.", start a new sentence: "in the U.S. What
    /// would you add?" is a statement, then a question.
    static let sentenceStarts: Set<String> = [
        "what", "which", "who", "how", "why", "when", "where", "any", "anyone", "does", "do", "is", "are", "can", "could",
        "would", "should", "we", "i", "our", "my", "you", "they", "it", "this", "that", "the", "thanks", "looking",
    ]

    /// Whether the full stop at `index` of `characters` ends its sentence: it comes before a space
    /// or the end ("outreach.io" and "$1.5M" go on), and not after an abbreviation
    /// (``abbreviations``); after a single capital ("the U.S. market", "J. Smith") or a closing
    /// abbreviation (``closingAbbreviations``) only before a capitalised word of ``sentenceStarts``.
    static func endsSentence(fullStopAt index: Int, in characters: [Character]) -> Bool {
        let after = characters[(index + 1)...]
        guard after.first?.isWhitespace ?? true else { return false }
        var start = index
        while start > 0, characters[start - 1].isLetter || characters[start - 1] == "." { start -= 1 }
        let word = characters[start..<index]
        let lowercased = String(word).lowercased()
        if abbreviations.contains(lowercased) { return false }
        let last = word.split(separator: ".", omittingEmptySubsequences: false).last ?? []
        guard (last.count == 1 && last.first?.isUppercase == true) || closingAbbreviations.contains(lowercased) else { return true }
        let next = after.drop { $0.isWhitespace }.prefix { $0.isLetter }
        return next.first?.isUppercase == true && sentenceStarts.contains(String(next).lowercased())
    }

    /// The clauses of `text`: sentences end at a "?" before a space, the end or closing
    /// punctuation (a link's "p?utm_source=li" or "?_hsenc=" asks nothing), "!", a line's end and
    /// a full stop that ends one (``endsSentence(fullStopAt:in:)``), and split into clauses at
    /// commas, semicolons, colons, parentheses and dashes. A negation is read only in its clause:
    /// "No joke, we're hiring a new SDR" is hiring. Without `splittingClauses`, only sentences,
    /// each with where its clauses start (``Clause/clauseStarts``).
    static func clauses(of text: String, splittingClauses: Bool = true) -> [Clause] {
        var clauses: [Clause] = []
        var sentence: [String] = []
        var clause = ""
        var previous: Character?
        let characters = Array(text)
        func endClause() {
            sentence.append(clause)
            clause = ""
        }
        func endSentence(asks: Bool) {
            endClause()
            if splittingClauses {
                clauses += sentence.map { Clause(words: normalizedBytes($0), asks: asks) }
            } else {
                // The clauses' words joined, each normalised one keeping its leading space.
                var words: [UInt8] = [0x20]
                var starts: [Int] = []
                for part in sentence.lazy.map(normalizedBytes) where part.count > 1 {
                    starts.append(words.count - 1)
                    words += part.dropFirst()
                }
                clauses.append(Clause(words: words, asks: asks, clauseStarts: starts.isEmpty ? [0] : starts))
            }
            sentence = []
        }
        for (index, character) in characters.enumerated() {
            switch character {
            case "?" where index + 1 == characters.count || characters[index + 1].isWhitespace || "?!)\"'”’.,;:".contains(characters[index + 1]):
                endSentence(asks: true)
            case "!", "\n": endSentence(asks: false)
            case "." where endsSentence(fullStopAt: index, in: characters): endSentence(asks: false)
            case ",", ";", ":", "(", ")", "—", "–": endClause()
            case "-" where previous?.isWhitespace == true: endClause()
            default: clause.append(character)
            }
            previous = character
        }
        endSentence(asks: false)
        return clauses
    }

    /// Whether `phrase` occurs in one of `clauses` with no negation (``negations``) among the
    /// ``negationDistance`` words before it in the clause it starts in, in a question when `askedOnly`.
    static func says(_ phrase: Phrase, in clauses: [Clause], askedOnly: Bool) -> Bool {
        clauses.contains { clause in
            guard !askedOnly || clause.asks else { return false }
            var start = 0
            while let found = firstByteIndex(of: phrase.needle, in: clause.words, from: start) {
                if !isNegated(before: found, in: clause.words[clause.clauseStart(at: found)...]) { return true }
                start = found + 1
            }
            return false
        }
    }

    /// ``negationExemptions`` as words.
    private static let exemptions = negationExemptions.map { $0.split(separator: " ") }

    /// Whether a negation is among the ``negationDistance`` words of normalised `words` before
    /// the byte at `index`, and no exemption (``negationExemptions``, ``negatedComparatives``)
    /// makes it none.
    private static func isNegated(before index: Int, in words: ArraySlice<UInt8>) -> Bool {
        var read = words[..<index].split(separator: 0x20).map { Substring(decoding: $0, as: UTF8.self) }
        let phraseStart = read.count
        if let first = words[index...].split(separator: 0x20).first { read.append(Substring(decoding: first, as: UTF8.self)) }
        return read.indices.prefix(phraseStart).suffix(negationDistance).contains { position in
            let word = read[position]
            let isContraction = word == "t" && position > 0 && read[position - 1].hasSuffix("n")
            guard negations.contains(word) || isContraction else { return false }
            let negation = read[(isContraction ? position - 1 : position)...]
            if exemptions.contains(where: { negation.starts(with: $0) }) { return false }
            // "Never been more" and "couldn't be more" say more, not less; "aren't so" says less.
            let takesComparative = word == "never" || word == "cannot" || word == "cant"
                || (isContraction && ["couldn", "can", "wouldn"].contains(read[position - 1]))
            return !takesComparative || !read[(position + 1)..<phraseStart].contains(where: negatedComparatives.contains)
        }
    }

    /// Whether "in house" in the normalised `text` is said of a thing of the offer's kind: one of
    /// ``inHouseThingWords`` or a product keyword within ``inHouseThingDistance`` words of it,
    /// and no word of a team after it (``inHouseTeamWords``).
    private func saysInHouseOfAThing(_ text: [UInt8]) -> Bool {
        let words = text.split(separator: 0x20)
        let things = (Self.inHouseThing + offerProducts).map { $0.needle.split(separator: 0x20) }.filter { !$0.isEmpty }
        func isTeam(_ word: ArraySlice<UInt8>) -> Bool { Self.inHouseTeamWords.contains { word.elementsEqual($0.utf8) } }
        for index in words.indices.dropLast() where words[index].elementsEqual("in".utf8) && words[index + 1].elementsEqual("house".utf8) {
            let near = max(0, index - Self.inHouseThingDistance)..<min(words.count, index + 2 + Self.inHouseThingDistance)
            for start in near {
                for thing in things where start + thing.count <= near.upperBound
                    && words[start..<start + thing.count].elementsEqual(thing, by: { $0.elementsEqual($1) }) {
                    // A team right after the thing, or after one more word of its name ("product
                    // marketing team"), not after a word that starts another phrase ("for teams").
                    let end = start + thing.count
                    let following = words[end..<min(words.count, end + Self.inHouseTeamDistance)]
                    let namesTeam = following.first.map(isTeam) == true
                        || (following.count == 2 && !Self.joiningWords.contains { following.first!.elementsEqual($0.utf8) }
                            && isTeam(following.last!))
                    if !namesTeam { return true }
                }
            }
        }
        return false
    }

    /// How far apart two posts of the same text are copies of one (``signals(in:)``): two days.
    static let copyWindow: TimeInterval = 2 * 86_400

    /// `posts` with their normalised text, in order, each said once: a post published on
    /// LinkedIn and X alike (or twice on one) is the same text within ``copyWindow`` of a post
    /// kept before it, whatever its id. Of a copy on X and one elsewhere the X one is kept, in the
    /// place of the first: what X reports as engagement restates an X post's mentions
    /// (``withoutRestatedMentions(orbit:clusters:posts:postSignals:)``), and a LinkedIn copy kept
    /// instead would count them again.
    static func withoutCopies(_ posts: [Post]) -> [(post: Post, text: [UInt8])] {
        var kept: [(post: Post, text: [UInt8])] = []
        var keptByText: [[UInt8]: [Int]] = [:]
        for post in posts {
            let text = normalizedBytes(post.text)
            let copied = keptByText[text]?.first { abs(kept[$0].post.date.timeIntervalSince(post.date)) <= copyWindow }
            if let copied {
                if post.platform == .x, kept[copied].post.platform != .x { kept[copied].post = post }
                continue
            }
            keptByText[text, default: []].append(kept.count)
            kept.append((post, text))
        }
        return kept
    }

    /// The most Unicode scalars of the orbit's names a signal's detail holds (an account engaged
    /// with, a cluster's accounts: ``OrbitClusters/listedNames(of:)``), as a card quotes the
    /// profile's words (``RuleBasedScorer/quotedLength``): the names come from the platforms and
    /// from pool profiles, and a lead's signals are kept in its company's heat state (up to
    /// ``AccountHeat/maxLeadsPerCompany`` leads), in its contribution and in its card.
    public static let maxOrbitDetailLength = RuleBasedScorer.quotedLength

    /// Signals in the orbit: engagement with competitors and adjacent vendors, one per account
    /// whichever platforms it was engaged with on (a competitor is known by the name the offer
    /// gives it, another account by its display name): its interactions added up, dated at the
    /// last of them, under the name of the first target of it
    /// (shortened to ``maxOrbitDetailLength``).
    public func signals(in orbit: [OrbitTarget]) -> [Signal] {
        var found: [Signal] = []
        var accounts: [String: Int] = [:]
        for target in orbit {
            let kind: Kind
            let account: String
            switch target.classification {
            case .competitor:
                kind = .competitorEngagement
                account = orbitCompetitors.competitor(name: target.name, handle: target.handle) ?? Self.normalize(target.name)
            case .adjacentVendor:
                kind = .adjacentEngagement
                account = Self.normalize(target.name)
            case .thoughtLeader, .peer:
                continue
            }
            let key = "\(kind.rawValue) \(account)"
            if let index = accounts[key] {
                found[index].count = found[index].count.addingSaturated(target.interactionCount)
                found[index].date = max(found[index].date, target.lastSeen)
            } else {
                accounts[key] = found.count
                found.append(Signal(kind: kind, detail: target.name.shortened(toScalars: Self.maxOrbitDetailLength),
                                    date: target.lastSeen, count: target.interactionCount))
            }
        }
        return found
    }

    /// Signals of orbit clusters, in cluster order: a competitor cluster, or a new cluster
    /// without a competitor (see ``kind(of:)``); dated at the cluster's last interaction.
    public func signals(in clusters: [OrbitCluster]) -> [Signal] {
        clusters.compactMap { cluster in
            Self.kind(of: cluster).map {
                Signal(kind: $0, detail: OrbitClusters.listedNames(of: cluster), date: cluster.lastSeen, count: cluster.interactionCount)
            }
        }
    }

    /// The signal a cluster is: ``Kind/competitorCluster`` with a competitor among its targets,
    /// else ``Kind/orbitCluster`` when it is new; nil for an established cluster without a
    /// competitor (the lead's usual orbit says nothing new).
    public static func kind(of cluster: OrbitCluster) -> Kind? {
        cluster.hasCompetitor ? .competitorCluster : cluster.isNew ? .orbitCluster : nil
    }

    /// The signals of an activity record's posts, then its orbit's; apart, those of `clusters`
    /// (its clusters). Restated X mentions are left out (``withoutRestatedMentions(orbit:clusters:posts:postSignals:)``).
    public func signals(in activity: Activity, clusters: [OrbitCluster]) -> ActivitySignals {
        let postSignals = signals(in: activity.posts)
        let (orbit, clusters) = withoutRestatedMentions(orbit: activity.orbit, clusters: clusters, posts: activity.posts,
                                                        postSignals: postSignals)
        return ActivitySignals(signals: postSignals + signals(in: orbit), clusterSignals: signals(in: clusters))
    }

    /// X reports as engagement the accounts a lead's own X posts mention. Where such a post
    /// already counts for naming a competitor (a ``Kind/competitorMention`` of `postSignals`),
    /// engagement with that competitor's X account is the same post again: it is left out of
    /// `orbit`, and a cluster whose only competitors are such accounts is no competitor cluster.
    /// Engagement seen on LinkedIn is evidence of its own and stays.
    public func withoutRestatedMentions(orbit: [OrbitTarget], clusters: [OrbitCluster], posts: [Post], postSignals: [Signal])
        -> (orbit: [OrbitTarget], clusters: [OrbitCluster]) {
        let mentions = postSignals.filter { $0.kind == .competitorMention }
        guard !mentions.isEmpty else { return (orbit, clusters) }
        let xPosts = Set(posts.lazy.filter { $0.platform == .x }.map(\.id))
        let named = Set(mentions.lazy.filter { $0.postID.map(xPosts.contains) == true }.map(\.detail))
        func isRestated(_ target: OrbitTarget) -> Bool {
            target.platform == .x && target.classification == .competitor
                && orbitCompetitors.competitor(name: target.name, handle: target.handle).map(named.contains) == true
        }
        guard !named.isEmpty, orbit.contains(where: isRestated) else { return (orbit, clusters) }
        let kept = orbit.filter { !isRestated($0) }
        let competitorHandles = Set(kept.lazy.filter { $0.classification == .competitor }.map(\.handle))
        return (kept, clusters.map { cluster in
            var cluster = cluster
            cluster.hasCompetitor = cluster.hasCompetitor && cluster.handles.contains(where: competitorHandles.contains)
            return cluster
        })
    }

    /// The competitor that employer `companyName` is, if any: its name is the competitor's once
    /// legal, domain and product words are dropped from both, or ends with "of" or "at" and it
    /// ("Apollo.io", "Apollo, Inc." and "Hooli Cloud" are Apollo and Hooli; so is the "Staff of
    /// Outreach" an X bio gives; "Apollo Hospitals", "Community Outreach" and "Red Clay" are not).
    public func competitor(employing companyName: String) -> String? {
        let company = Self.corporateName(companyName)
        guard !company.isEmpty else { return nil }
        return competitorNames.first { company == $0.name || company.hasSuffix(" of " + $0.name) || company.hasSuffix(" at " + $0.name) }?.text
    }

    /// Words a company's name may end with besides the name itself: legal forms, domains and
    /// what a vendor adds to its name for its product.
    static let corporateSuffixes: Set<Substring> = [
        "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company", "gmbh", "ag", "sa", "plc",
        "bv", "io", "ai", "com", "hq", "technologies", "technology", "software", "labs", "group", "holdings", "cloud",
        "security", "systems", "platform", "data", "analytics", "solutions", "app", "apps",
    ]

    /// The name people write for a competitor the offer lists: "outreach.io" is "outreach" (a
    /// post says "Outreach", a handle is @Outreach); any other name as it is.
    static func brand(_ competitor: String) -> String {
        let name = competitor.trimmingCharacters(in: .whitespaces)
        guard let dot = name.lastIndex(of: "."), domainEndings.contains(name[name.index(after: dot)...].lowercased()),
              !name[..<dot].isEmpty, name[..<dot].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { return competitor }
        return String(name[..<dot])
    }

    /// Top-level domains a vendor's name is written with ("gong.io", "clay.com").
    private static let domainEndings: Set<String> = ["io", "com", "ai", "co", "app", "so", "net", "org", "dev", "tech", "hq", "us"]

    /// `name` normalised, without trailing ``corporateSuffixes`` (one word always stays).
    static func corporateName(_ name: String) -> String {
        droppingTrailing(corporateSuffixes, from: normalize(name))
    }

    /// Normalised `name` without its trailing words among `suffixes`; one word always stays.
    static func droppingTrailing(_ suffixes: Set<Substring>, from name: String) -> String {
        var words = name.split(separator: " ")
        while words.count > 1, let last = words.last, suffixes.contains(last) { words.removeLast() }
        return words.joined(separator: " ")
    }

    /// Whether the competitor `companyName` names occurs in it (whole words either way): for
    /// free text such as a bio; an employer is matched by ``competitor(employing:)``.
    public func competitor(matching companyName: String) -> String? {
        let company = Phrase(companyName)
        guard !company.isBlank else { return nil }
        return competitors.first { ($0.occurs(in: company) || company.occurs(in: $0)) && isMentioned($0, in: companyName) }?.text
    }

    /// Whether `competitor`, found in the normalised `text`, is mentioned there: always, unless
    /// its name is an everyday word; then only where written as a name.
    private func isMentioned(_ competitor: Phrase, in text: String) -> Bool {
        !everydayCompetitors.contains(competitor.text) || Self.isWrittenAsName(competitor.text, in: text)
    }

    /// Whether `name` occurs in `text` as whole words written as a name: capitalised
    /// ("Outreach", "OUTREACH"), as a handle ("@outreach") or with its domain ("outreach.io").
    /// At a sentence's start a capital says nothing, and counts all the same. Read character by
    /// character, as ``normalize(_:)`` reads: its words are letters and digits, and any run of
    /// other characters separates two ("Common-Room" is "Common Room").
    static func isWrittenAsName(_ name: String, in text: String) -> Bool {
        func isWordCharacter(_ character: Character) -> Bool { character.isLetter || character.isNumber }
        // Whether `character` is `letter` (lowercase) in any case; ASCII without making strings.
        func isSame(_ character: Character, as letter: Character) -> Bool {
            if character == letter { return true }
            if let ascii = character.asciiValue, let lower = letter.asciiValue { return (65...90).contains(ascii) && ascii + 32 == lower }
            return character.lowercased() == String(letter)
        }
        let words = name.lowercased().split { !isWordCharacter($0) }.map(Array.init)
        guard !words.isEmpty else { return false }
        let characters = Array(text)
        for start in characters.indices where start == 0 || !isWordCharacter(characters[start - 1]) {
            var next = start
            var matches = true
            for (index, word) in words.enumerated() where matches {
                if index > 0 {
                    let separatorStart = next
                    while next < characters.count, !isWordCharacter(characters[next]) { next += 1 }
                    matches = next > separatorStart
                }
                for letter in word where matches {
                    matches = next < characters.count && isSame(characters[next], as: letter)
                    next += 1
                }
            }
            guard matches, next == characters.count || !isWordCharacter(characters[next]) else { continue }
            if characters[start].isUppercase || (start > 0 && characters[start - 1] == "@") { return true }
            if next + 1 < characters.count, characters[next] == ".", characters[next + 1].isLetter { return true }
        }
        return false
    }

    /// Lowercase letters and digits separated by single spaces, padded with a space on each side;
    /// canonically composed (NFC), so a letter written precomposed or decomposed reads the same.
    public static func normalize(_ text: String) -> String {
        String(decoding: normalizedBytes(text), as: UTF8.self)
    }

    /// ``normalize(_:)`` as UTF-8 bytes, which is what phrases are searched in.
    static func normalizedBytes(_ text: String) -> [UInt8] {
        if let ascii = normalizeASCII(text) { return ascii }
        var result = " "
        var lastWasSpace = true
        // Composed canonically, so that "ä" and "a" with a combining diaeresis are the same bytes.
        for character in text.lowercased().precomposedStringWithCanonicalMapping {
            if character.isLetter || character.isNumber {
                result.append(character)
                lastWasSpace = false
            } else if !lastWasSpace {
                result.append(" ")
                lastWasSpace = true
            }
        }
        if !lastWasSpace { result.append(" ") }
        return Array(result.utf8)
    }

    /// ``normalizedBytes(_:)`` for ASCII text (the common case, and many times faster); nil when
    /// the text has other characters.
    private static func normalizeASCII(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 2)  // one allocation: a literal `[0x20]` would be a second
        bytes.append(0x20)
        var lastWasSpace = true
        for byte in text.utf8 {
            switch byte {
            case 0x80...: return nil
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                bytes.append(byte)
                lastWasSpace = false
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                bytes.append(byte + 0x20)
                lastWasSpace = false
            default:
                if !lastWasSpace {
                    bytes.append(0x20)
                    lastWasSpace = true
                }
            }
        }
        if !lastWasSpace { bytes.append(0x20) }
        return bytes
    }

    /// Whether two normalised texts are equal as strings are (canonically equivalent): equal
    /// bytes, or the same characters composed differently, which only non-ASCII text can be.
    static func sameNormalized(_ one: [UInt8], _ other: [UInt8]) -> Bool {
        if one == other { return true }
        guard one.contains(where: { $0 >= 0x80 }) || other.contains(where: { $0 >= 0x80 }) else { return false }
        return String(decoding: one, as: UTF8.self) == String(decoding: other, as: UTF8.self)
    }

    /// Whether `phrase` occurs as whole words in already-normalised text.
    public static func contains(normalized text: String, phrase: String) -> Bool {
        Phrase(phrase).occurs(in: Array(text.utf8))
    }

    /// Byte search. Both sides are normalised and the needle starts and ends with a space, so a
    /// match is a whole-word match.
    private static func containsBytes(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        firstByteIndex(of: needle, in: haystack, from: 0) != nil
    }

    /// Whether `phrase` occurs as whole words in `text`.
    public static func contains(_ text: String, phrase: String) -> Bool {
        contains(normalized: normalize(text), phrase: phrase)
    }
}
