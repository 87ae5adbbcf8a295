import Foundation
import LeadModel

/// What a profile says about the fit criteria, each fact with the platform it came from.
///
/// LinkedIn is read first; X fills what LinkedIn leaves out (role and employer from the bio,
/// location), and can add evidence when both exist: an X bio naming, with "at" or "@", another
/// employer than LinkedIn's current one (not its handle: "@AcmeHQ" is Acme's) is read as the newer
/// role, unless LinkedIn lists that employer only among the positions the lead has left: the bio
/// is then out of date, and is not read at all.
public struct FitEvidence: Hashable, Sendable {
    /// A fact and where it came from (`linkedin`, `x`, `company`).
    public struct Fact<Value: Hashable & Sendable>: Hashable, Sendable {
        /// The value.
        public var value: Value
        /// Where it came from.
        public var source: String
    }

    /// The job title.
    public var title: Fact<String>?
    /// The employer's name.
    public var company: Fact<String>?
    /// The employer's industry (from the company record).
    public var industry: Fact<String>?
    /// The employer's head count (from the company record): exact, or a vendor's band.
    public var employees: Fact<EmployeeRange>?
    /// Where the lead is.
    public var location: Fact<String>?
    /// LinkedIn skills.
    public var skills: [String]
    /// The person's own descriptions of the role ``title`` is: the LinkedIn headline and title
    /// and the X bio, or only the bio when the title is the bio's. What tells an ambiguous title
    /// ("CSO") apart (``ScoringVocabulary/role(ofTitle:context:)``).
    public var titleContext: [String] = []
    /// LinkedIn's title and employer, when the X bio names a different, newer employer.
    public var earlierLinkedInRole: EarlierRole?
    /// Whether ``company`` is the employer an X bio names in place of a different LinkedIn one
    /// (with or without a LinkedIn title): the company record then describes the employer left.
    public var replacesLinkedInEmployer = false

    /// A role the X bio replaced.
    public struct EarlierRole: Hashable, Sendable {
        /// LinkedIn's title.
        public var title: String
        /// LinkedIn's employer.
        public var company: String
    }

    /// Gathers the evidence of `profile`.
    public init(profile: EnrichedProfile) {
        let linkedin = profile.linkedin
        let linkedinTitle = [linkedin?.jobTitle, linkedin?.headline].compactMap { $0 }.first { !$0.isBlank }
        let linkedinCompany = [profile.company?.name, linkedin?.company].compactMap { $0 }.first { !$0.isBlank }
        let parsedBio = profile.x.map { XBioRole.parse($0.bio) } ?? nil
        // A bio naming, with "at" or "@", an employer LinkedIn lists only as left was not updated
        // since: it says nothing of the current role.
        let isOutOfDate = parsedBio.map { parsed in
            parsed.employerNamedWithAt && parsed.company.map { Self.hasLeft(ScoringVocabulary.normalize($0), on: linkedin) } == true
        } ?? false
        let bio = isOutOfDate ? nil : parsedBio
        let currentBio = isOutOfDate ? nil : profile.x?.bio

        title = linkedinTitle.map { Fact(value: $0, source: "linkedin") }

        company = linkedinCompany.map { Fact(value: $0, source: profile.company?.name.isBlank == false ? "company" : "linkedin") }
        if let bio {
            // Only an employer named with "at" or "@" can be a newer one than LinkedIn's.
            let bioEmployer = bio.employerNamedWithAt ? bio.company.map(ScoringVocabulary.normalize) : nil
            let employerDiffers = bioEmployer.map { employer in
                linkedinCompany.map { !Self.sameCompany(ScoringVocabulary.normalize($0), employer) } ?? false
            } ?? false
            if title == nil || employerDiffers {
                replacesLinkedInEmployer = employerDiffers && bio.company != nil
                if employerDiffers, let linkedinTitle, let linkedinCompany {
                    earlierLinkedInRole = EarlierRole(title: linkedinTitle, company: linkedinCompany)
                }
                title = Fact(value: bio.title, source: "x")
                if let employer = bio.company { company = Fact(value: employer, source: "x") }
            } else if company == nil, let employer = bio.company {
                company = Fact(value: employer, source: "x")
            }
        }
        // What tells an ambiguous title apart: the person's own words about the role the title
        // is; LinkedIn's describe an earlier one when the title is the X bio's.
        titleContext = (title?.source == "x" ? [currentBio] : [linkedin?.headline, linkedin?.jobTitle, currentBio])
            .compactMap { $0 }.filter { !$0.isBlank }
        // The company record describes LinkedIn's employer; after an X role change it is stale
        // (with a LinkedIn title or without one).
        if earlierLinkedInRole == nil && !replacesLinkedInEmployer {
            industry = profile.company?.industry.flatMap { $0.isBlank ? nil : Fact(value: $0, source: "company") }
            let headCount = profile.company?.employeeCount.map(EmployeeRange.init(exactly:)) ?? profile.company?.employeeRange
            employees = headCount.map { Fact(value: $0, source: "company") }
        }
        let linkedinLocation = linkedin.map(\.location).flatMap { $0.isBlank ? nil : $0 }
        // An X location is free text: "Everywhere 🌍" or "Remote" is no location.
        let xLocation = profile.x?.location.flatMap { $0.isBlank || RuleBasedScorer.namesNoPlace($0) ? nil : $0 }
        location = linkedinLocation.map { Fact(value: $0, source: "linkedin") } ?? xLocation.map { Fact(value: $0, source: "x") }
        skills = linkedin?.skills ?? []
    }

    /// Where any of the evidence came from, in a stable order.
    public var sources: [String] {
        let used = Set([title?.source, company?.source, industry?.source, employees?.source, location?.source].compactMap { $0 })
            .union(skills.isEmpty ? [] : ["linkedin"])
        return ["linkedin", "x", "company"].filter(used.contains)
    }

    /// Whether LinkedIn lists the normalised `employer` among the lead's positions, each of them
    /// ended (``sameCompany(_:_:)``).
    static func hasLeft(_ employer: String, on linkedin: LinkedInProfile?) -> Bool {
        let positions = (linkedin?.experiences ?? []).filter { sameCompany(ScoringVocabulary.normalize($0.company), employer) }
        return !positions.isEmpty && !positions.contains(where: \.isCurrent)
    }

    /// Whether two normalised employer names name one company: one contains the other's words,
    /// or one is the other's handle ("acmehq", "getacme" and "acmesaas" are Acme SaaS's).
    /// Legal forms and the words a company's name is written with or without ("Globex Corp" and
    /// "Globex Corporation", "Acme Tech" and "Acme Technologies") are dropped from both first.
    static func sameCompany(_ lhs: String, _ rhs: String) -> Bool {
        func contains(_ outer: String, _ inner: String) -> Bool { " \(outer) ".contains(" \(inner) ") }
        if lhs == rhs || contains(lhs, rhs) || contains(rhs, lhs) { return true }
        let (lhsCore, rhsCore) = (SignalDetector.droppingTrailing(nameSuffixes, from: lhs), SignalDetector.droppingTrailing(nameSuffixes, from: rhs))
        if (lhsCore != lhs || rhsCore != rhs) && lhsCore == rhsCore { return true }
        func isHandle(_ handle: String, of name: String) -> Bool {
            guard !handle.contains(" "), name.contains(" ") || handle.count > name.count else { return false }
            let joined = name.replacingOccurrences(of: " ", with: "")
            if handle == joined { return true }
            let core = handlePrefixes.reduce(handle) { $0.hasPrefix($1) && $0.count > $1.count + 2 ? String($0.dropFirst($1.count)) : $0 }
            let stem = handleSuffixes.reduce(core) { $0.hasSuffix($1) && $0.count > $1.count + 2 ? String($0.dropLast($1.count)) : $0 }
            return stem != handle && (stem == joined || contains(name, stem))
        }
        return isHandle(rhs, of: lhs) || isHandle(lhs, of: rhs)
    }

    /// Words a company's name is written with or without: legal forms, and the trade it names.
    private static let nameSuffixes: Set<Substring> = [
        "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company", "gmbh", "ag", "sa", "plc", "bv",
        "tech", "technologies", "technology", "labs", "group", "holdings", "hq", "io", "ai",
    ]

    /// What a company's X handle adds to its name: @getsentry, @tryacme, @SlackHQ, @acmeapp.
    private static let handlePrefixes = ["get", "try", "use", "join", "hello"]
    private static let handleSuffixes = ["hq", "app", "inc", "team", "official"]
}

/// The role an X bio states: "Head of Growth at Northwind", "VP Sales @acme | dad",
/// "Founder, Acme", "Co-founder of Acme".
public enum XBioRole {
    /// A title and, when named, the employer.
    public struct Parsed: Hashable, Sendable {
        /// The title as written.
        public var title: String
        /// The employer as written (an `@handle` without its `@`), if named.
        public var company: String?
        /// Whether the employer was named with "at" or "@": "Founder, Lumen Labs" and
        /// "Co-founder of Pipewise" name one less surely (a side project, a region, a hobby).
        public var employerNamedWithAt = false
    }

    /// The first part of the bio that reads as a role naming an employer, else the first that
    /// reads as a role, or nil. A part reads as a role when the vocabulary finds a function or
    /// seniority in the words before the employer (or, without an employer, in a part of at most
    /// six words). "Marketing nerd | Head of Growth @Northwind" is Head of Growth at Northwind.
    public static func parse(_ bio: String, vocabulary: ScoringVocabulary = .standard) -> Parsed? {
        // Split scalar by scalar, as `components(separatedBy: partSeparators)` does, without NSString.
        let parts = bio.unicodeScalars.split(omittingEmptySubsequences: false, whereSeparator: partSeparators.contains)
            .flatMap { joiningAbbreviations(sentences(String($0))) }
            .map { $0.trimming(partPadding) }
            .filter { !$0.isEmpty }
        var withoutEmployer: Parsed?
        for part in parts {
            guard let parsed = parseRole(part, vocabulary: vocabulary) else { continue }
            if parsed.company != nil { return parsed }
            withoutEmployer = withoutEmployer ?? parsed
        }
        return withoutEmployer
    }

    /// What separates the parts of a bio (besides ". ").
    private static let partSeparators = CharacterSet(charactersIn: "|•·;\n/")
    /// What is trimmed off each part.
    private static let partPadding = CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: "."))
    /// What is trimmed off a title and an employer.
    private static let spaces = CharacterSet.whitespaces

    /// Abbreviations a title is written with, whose ". " ends no sentence: "Formerly Sr. Account
    /// Executive at Outreach" is one past role, "Dir. of Sales at Acme" one role.
    private static let abbreviations: Set<String> = ["sr", "snr", "jr", "dir", "mgr", "asst", "assoc", "exec", "eng", "dr", "mr", "mrs", "ms", "st"]

    /// `sentences` with each one that ends in an abbreviation joined to the next.
    static func joiningAbbreviations(_ sentences: [String]) -> [String] {
        var joined: [String] = []
        var carried: String?
        for (index, sentence) in sentences.enumerated() {
            let whole = carried.map { $0 + ". " + sentence } ?? sentence
            let lastWord = whole.split(whereSeparator: { !$0.isLetter }).last.map { $0.lowercased() }
            // "The No. 1 Agency": "No." before a number ends no sentence either ("Yes or No. 3x founder" does).
            let isNumberSign = lastWord == "no" && index + 1 < sentences.count && startsWithNumber(Substring(sentences[index + 1]))
            if let lastWord, abbreviations.contains(lastWord) || isNumberSign, whole.last?.isLetter == true {
                carried = whole
            } else {
                joined.append(whole)
                carried = nil
            }
        }
        if let carried { joined.append(carried) }
        return joined
    }

    /// `text.components(separatedBy: ". ")`, by bytes when `text` is ASCII (most bios).
    static func sentences(_ text: String) -> [String] {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return text.components(separatedBy: ". ") }
        var sentences: [String] = []
        var start = text.startIndex
        while let range = asciiRange(of: ". ", in: text, from: start) {
            sentences.append(String(text[start..<range.lowerBound]))
            start = range.upperBound
        }
        sentences.append(String(text[start...]))
        return sentences
    }

    /// `part.range(of: marker, options: .caseInsensitive)`, by bytes when `part` is ASCII.
    static func range(of marker: String, in part: String) -> Range<String.Index>? {
        guard part.utf8.allSatisfy({ $0 < 0x80 }) else { return part.range(of: marker, options: .caseInsensitive) }
        return asciiRange(of: marker, in: part, from: part.startIndex)
    }

    /// The first range of the ASCII `marker` in the ASCII `text` at or after `start`, letters
    /// matched in either case.
    private static func asciiRange(of marker: String, in text: String, from start: String.Index) -> Range<String.Index>? {
        let needle = marker.utf8, bytes = text.utf8
        guard let first = needle.first.map(lowercased) else { return nil }
        var lower = start
        while let candidate = bytes[lower...].firstIndex(where: { lowercased($0) == first }) {
            var end = candidate, next = needle.startIndex
            while next < needle.endIndex, end < bytes.endIndex, lowercased(bytes[end]) == lowercased(needle[next]) {
                bytes.formIndex(after: &end)
                needle.formIndex(after: &next)
            }
            if next == needle.endIndex { return candidate..<end }
            lower = bytes.index(after: candidate)
        }
        return nil
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    private static func parseRole(_ part: String, vocabulary: ScoringVocabulary) -> Parsed? {
        var namesAPastRole = false
        for marker in [" at ", " @ ", " @", ", ", " of "] {
            guard let range = marker == " of " ? employerOf(in: part, vocabulary: vocabulary) : range(of: marker, in: part) else { continue }
            let title = String(part[..<range.lowerBound]).trimming(spaces)
            let rest = String(part[range.upperBound...])
            // "Director, Information Security": what follows the comma is the function, not an employer.
            if marker == ", ", vocabulary.role(ofTitle: rest).map({ !$0.functions.isEmpty }) == true { continue }
            if isPast(title) { namesAPastRole = true; continue }
            guard !title.isEmpty, let role = vocabulary.role(ofTitle: title) else { continue }
            // "of" only after a founder or chief title ("Co-founder of Acme", "Chief of Staff of
            // Acme"), not "Head of Sales".
            if marker == " of ", ![.founder, .cLevel].contains(role.seniority), !isChiefOfStaff(title) { continue }
            guard role.seniority != nil || !role.functions.isEmpty else { continue }
            var company = companyName(rest, isHandle: marker == " @", vocabulary: vocabulary)
            // After a comma only a name is an employer: "VP Demand Gen, EMEA", "CEO, husband, dad" name none.
            if marker == ", ", let name = company, !isWrittenAsEmployer(name) { company = nil }
            // "Growth nerd at heart", "Builder at scale": an idiom, no employer.
            if let name = company, idioms.contains(name.lowercased()) { company = nil }
            // "Head of Sales at a Series B startup", "@ stealth": a kind of company, not its name.
            if let name = company, !isNamed(name) { company = nil }
            return Parsed(title: title, company: company, employerNamedWithAt: company != nil && [" at ", " @ ", " @"].contains(marker))
        }
        let words = part.split(whereSeparator: \.isWhitespace)
        // A bare "CSO" names a role whose function the rest of the profile may tell.
        guard words.count <= 6, !namesAPastRole, !isPast(part), let role = vocabulary.role(ofTitle: part),
              !role.functions.isEmpty || !vocabulary.openReadings(ofTitle: part).isEmpty else { return nil }
        return Parsed(title: part, company: nil)
    }

    /// The first " of " of `part` that may name an employer: not one after the word "Chief"
    /// before a word that names a function with it, which makes a title: "Chief of Staff" (a
    /// director in operations), "Chief of Sales", "Chief of Staffing" are no chiefs at Staff,
    /// Sales or Staffing. "Chief of Staffordshire County Council" is a chief there.
    private static func employerOf(in part: String, vocabulary: ScoringVocabulary) -> Range<String.Index>? {
        var found = range(of: " of ", in: part)
        while let range = found, part[..<range.lowerBound].split(whereSeparator: { !$0.isLetter }).last?.lowercased() == "chief",
              let word = part[range.upperBound...].split(whereSeparator: \.isWhitespace).first,
              vocabulary.role(ofTitle: "chief of \(word)")?.functions.isEmpty == false {
            found = part.range(of: " of ", options: .caseInsensitive, range: range.upperBound..<part.endIndex)
        }
        return found
    }

    /// Whether `title` ends in "Chief of Staff" as words of its own, written in any case.
    private static func isChiefOfStaff<Title: StringProtocol>(_ title: Title) -> Bool {
        let lowered = title.lowercased()
        return lowered.hasSuffix("chief of staff") && lowered.dropLast("chief of staff".count).last?.isLetter != true
    }

    /// What follows "at" in a bio without naming an employer.
    private static let idioms: Set<String> = [
        "heart", "large", "night", "home", "play", "work", "times", "best", "core", "rest", "peace", "ease",
        "last", "least", "first", "once", "the moment", "the end of the day", "all times", "any cost", "my core",
    ]

    /// Whether `employer`, written after "at" or the like, is a company's name: it does not start
    /// with one of ``kindWords`` in lowercase ("a Series B startup", "my own agency", while "The
    /// Trade Desk" is a name) nor with "stealth" however written. "The" however written, or one
    /// of ``kindWords`` capitalised (Title Case bios: "A Series B Startup", "At A Stealth
    /// Startup", "at The Coolest Startup"), starts a description when "stealth" is in it, only a
    /// funding stage follows it ("A Series B", "An Early Stage": ``isStage(_:)``), or words that
    /// describe a company come before a kind of company ("The Best Agency in Town", "The No. 1
    /// Agency": ``isDescription(_:)``). A kind of company at its end makes a description too
    /// ("the best team", "My Own Agency", "THE AGENCY"), except after "The" in Title Case: "The
    /// Walt Disney Company", "The Browser Company", "The Org" and "The Agency" are names. X bios
    /// are often all lowercase, "head of sales at the trade desk", and real names start with
    /// "The" or "A" ("The New York Times", "A Cloud Guru", "A Place for Mom"; "A24" is a word of
    /// its own).
    private static func isNamed(_ employer: String) -> Bool {
        let words = employer.split(whereSeparator: \.isWhitespace)
        guard let first = words.first else { return false }
        let lowered = first.lowercased()
        if kindWords.contains(String(first)) || lowered == "stealth" { return false }
        guard lowered == "the" || kindWords.contains(lowered), words.count > 1 else { return true }
        let rest = words.dropFirst().map { $0.lowercased() }
        if rest.contains("stealth") || isStage(rest) || isDescription(rest) { return false }
        if first == "The", words.dropFirst().allSatisfy({ !($0.first?.isLowercase ?? false) }) { return true }
        return !kindNouns.contains(rest[rest.count - 1])
    }

    /// Whether lowercase `words` describe a company rather than name it: before one of
    /// ``kindNouns``, which ends them or starts a phrase of where or what it is, a funding stage
    /// (``isStage(_:)``: "series a startup"), words that are all ``describingWords`` or stage
    /// words ("best agency in town", "no. 1 agency"), a strong describing word and any words
    /// after it ("leading AI company", "world's leading CRM company", "#1 B2B agency"), or only
    /// ``industryWords`` before a startup ("AI startup"; "The Data Company" stays a name).
    private static func isDescription(_ words: [String]) -> Bool {
        guard let noun = words.firstIndex(where: kindNouns.contains), noun > 0 else { return false }
        let before = words[..<noun]
        guard isStage(Array(before)) || before.allSatisfy({ describingWords.contains($0) || stageWords.contains($0) })
            || strongDescribingWords.contains(before[before.startIndex])
            || (startupNouns.contains(words[noun]) && before.allSatisfy(industryWords.contains))
        else { return false }
        return noun == words.count - 1 || qualifierWords.contains(words[noun + 1])
    }

    /// ``describingWords`` that describe whatever words follow them ("leading AI company"): not
    /// the ones a real name may start with ("The One Group", "Number Nine Agency", "Top Hat Company").
    private static let strongDescribingWords: Set<String> = [
        "best", "coolest", "leading", "hottest", "fastest", "fastest-growing", "biggest", "largest", "greatest",
        "world's", "world\u{2019}s", "worlds", "#1", "no.1", "most",
    ]

    /// Kinds of company that words of an industry alone describe ("AI startup").
    private static let startupNouns: Set<String> = ["startup", "startups", "start-up", "scaleup", "scale-up", "unicorn"]

    /// Words of an industry that, alone before a startup, describe it rather than name it.
    private static let industryWords: Set<String> = [
        "ai", "ml", "b2b", "b2c", "saas", "fintech", "healthtech", "edtech", "proptech", "insurtech", "martech", "adtech",
        "crm", "tech", "software", "data", "cybersecurity", "security", "devtools", "climate", "web3", "crypto", "genai",
    ]

    /// Words that describe a company, not name it, before a kind of company ("The Coolest
    /// Startup", "The No. 1 Agency"); few, as real names are made of words ("The Boring Company",
    /// "The Weather Company").
    private static let describingWords: Set<String> = [
        "best", "coolest", "leading", "hottest", "fastest", "fastest-growing", "growing", "biggest", "largest", "greatest",
        "top", "world's", "world\u{2019}s", "worlds", "no.", "no", "no.1", "#1", "1", "number", "one", "most", "innovative",
    ]

    /// Words that start what a description says after its kind of company: "in town", "of the year".
    private static let qualifierWords: Set<String> = ["in", "on", "of", "for", "around", "ever"]

    /// Whether lowercase `words` name only a company's funding stage, its noun left out:
    /// "series b", "seed-stage", "early stage", "pre-seed", "vc-backed".
    private static func isStage(_ words: [String]) -> Bool {
        words.indices.allSatisfy { index in
            stageWords.contains(words[index]) || (index > 0 && words[index - 1] == "series" && words[index].count == 1)
        }
    }

    /// Words of a company's funding stage (``isStage(_:)``); a letter after "series" is one too.
    private static let stageWords: Set<String> = [
        "series", "seed", "pre-seed", "preseed", "seed-stage", "early", "early-stage", "late", "late-stage", "growth",
        "growth-stage", "stage", "funded", "vc-backed", "yc-backed", "venture-backed", "bootstrapped", "fast-growing",
        "high-growth", "hypergrowth",
    ]

    /// Articles, possessives and the like that start a description of a company, not its name.
    private static let kindWords: Set<String> = [
        "a", "an", "my", "our", "your", "his", "her", "their", "this", "that", "some", "any", "several", "various",
        "multiple", "many",
    ]

    /// Nouns that end a description of a company after "the" or a capitalised ``kindWords``
    /// ("the best team", "A Series B Startup").
    private static let kindNouns: Set<String> = [
        "startup", "startups", "start-up", "company", "companies", "team", "teams", "agency", "firm", "business",
        "organization", "organisation", "org", "world", "industry", "space", "unicorn", "scaleup", "scale-up",
    ]

    /// Regions a title is often followed by after a comma ("VP Sales, West Coast") that are no
    /// region of the ``Gazetteer`` nor a country, normalised: those are regions too ("VP Sales,
    /// EMEA", "Director, UK": ``isWrittenAsEmployer(_:)``).
    static let regions: Set<String> = [
        "cee", "na", "global", "worldwide", "international", "east", "west", "north", "south", "central", "east coast",
        "west coast", "us east", "us west",
    ]

    /// Whether `name`, written after a comma, reads as an employer: it starts with a capital
    /// letter or a digit and is no region (``regions``, a region of the ``Gazetteer`` or a country).
    static func isWrittenAsEmployer(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first,
              CharacterSet.uppercaseLetters.contains(first) || CharacterSet.decimalDigits.contains(first) else { return false }
        return !regions.contains(ScoringVocabulary.normalize(name).trimming(spaces)) && Gazetteer.standard.regions[Gazetteer.folded(name)] == nil
            && RuleBasedScorer.country(named: SignalDetector.normalize(name)) == nil
    }

    /// Whether `title` names a past role: its last clause starts with a past marker
    /// (``ScoringVocabulary/startsWithPastMarker(_:)``). The marker belongs to its clause:
    /// "ex-Googler, VP Sales" is a current VP Sales.
    static func isPast(_ title: String) -> Bool {
        ScoringVocabulary.startsWithPastMarker(title.split(separator: ",").last ?? Substring(title))
    }

    /// The employer up to the punctuation that ends it (``endsName(at:in:)``), without a leading
    /// `@`, and up to where the bio goes on after it (``wordsOfName(_:startsWithHandle:vocabulary:)``).
    /// `isHandle`: written after an "@" with no space. Nil when empty.
    private static func companyName(_ text: String, isHandle: Bool, vocabulary: ScoringVocabulary) -> String? {
        var name = text.trimming(spaces)
        let isHandle = isHandle || name.hasPrefix("@")
        if name.hasPrefix("@") { name.removeFirst() }
        let end = name.indices.first { endsName(at: $0, in: name) } ?? name.endIndex
        name = String(wordsOfName(name[..<end], startsWithHandle: isHandle, vocabulary: vocabulary)).trimming(spaces)
        return name.isEmpty ? nil : name
    }

    /// The words of `text` that are the employer's name when it starts with a capital, a digit
    /// or a handle: up to a dash between spaces ("Acme - ex-Google"), a word with no letter or
    /// digit ("Acme 🚀 hiring"), or a word in lowercase ("Acme based in NYC", "@acme building the
    /// future") unless it is one of a name's small words before a capitalised one, past any other
    /// small words (``nameJoiners``: "Bank of America", "Bank of the West", "Universidad de los
    /// Andes"; an elided article joined to a capital is a capitalised word: "Banca d'Italia").
    /// "and", "&" or "+" before a title join no name ("Acme & CEO at Beta", "Acme and Co-founder
    /// of Beta": ``startsTitle(_:vocabulary:)``). "in" or "from", in any case, and a "based"
    /// before them, are no part of it before a place (``startsWithPlace(_:)``: "Acme in NYC",
    /// "Google in London", "Acme Based In NYC"). A name after "@" goes on in capitals as after
    /// "at" ("@Orca Security"), unless its first word is a small word or starts a description
    /// ("@the company", "@my startup": ``kindWords``). A name starting in lowercase otherwise ends
    /// only before a place or "based in" (``lowercaseName(_:words:)``): in a lowercase bio ("head
    /// of sales at the trade desk") nothing else tells its words from the bio's. A participle
    /// before "in" keeps the place in the name in any case ("Made in NYC": ``participles``).
    private static func wordsOfName(_ text: Substring, startsWithHandle: Bool, vocabulary: ScoringVocabulary) -> Substring {
        let words = text.split(whereSeparator: \.isWhitespace)
        guard let first = words.first,
              isCapitalised(first) || (startsWithHandle && !isSmallWord(first) && !kindWords.contains(first.lowercased()))
        else { return lowercaseName(text, words: words) }
        for (index, word) in words.enumerated().dropFirst() {
            let before = text[..<word.startIndex]
            if ["-", "\u{2013}", "\u{2014}"].contains(word) { return before }
            if ["in", "from"].contains(word.lowercased()), !participles.contains(words[index - 1].lowercased()),
               startsWithPlace(words[(index + 1)...]) {
                let previous = words[index - 1]
                return index > 1 && previous.lowercased() == "based" ? text[..<previous.startIndex] : before
            }
            guard isSmallWord(word) || word == "&" || word == "+" else {
                let endsName = (word.first?.isLowercase == true && !isCapitalised(word)) || !word.contains { $0.isLetter || $0.isNumber }
                if endsName { return before }
                continue
            }
            guard let next = words[(index + 1)...].firstIndex(where: { !isSmallWord($0) }), isCapitalised(words[next]),
                  !["and", "&", "+"].contains(word) || !startsTitle(words[next...], vocabulary: vocabulary)
            else { return before }
        }
        return text
    }

    /// The words of `text`, an employer written in lowercase, before "based in" or "based from"
    /// whatever follows ("the trade desk based in nyc"), and before "in" or "from" and a place
    /// that runs to the end of `text` (``endsWithPlace(_:)``: "acme in london"; `text` ends at
    /// the name's punctuation). Else all of them: a place more words follow names something
    /// ("made in america store", "jobs from india labs"), as one after a participle does
    /// ("made in nyc", "born in china"), and in a lowercase bio nothing else tells a name's words
    /// from the bio's ("women in tech"). A name that is a word and a place ("jobs in london") is
    /// read as the word.
    private static func lowercaseName(_ text: Substring, words: [Substring]) -> Substring {
        for (index, word) in words.enumerated().dropFirst() where ["in", "from"].contains(word.lowercased()) {
            let previous = words[index - 1]
            if index > 1, previous.lowercased() == "based" { return text[..<previous.startIndex] }
            if !participles.contains(previous.lowercased()), endsWithPlace(words[(index + 1)...]) {
                return text[..<word.startIndex]
            }
        }
        return text
    }

    /// Participles a name puts before "in" and a place: "Made in NYC", "Born in China".
    private static let participles: Set<String> = [
        "made", "born", "lost", "built", "designed", "grown", "brewed", "printed", "crafted", "raised", "bred", "baked",
    ]

    /// Whether `words`, all that follow "in" or "from" in a lowercase employer, are one place
    /// the scorer knows, in any case: a city ("london", "nyc", "san francisco") or a country.
    private static func endsWithPlace(_ words: ArraySlice<Substring>) -> Bool {
        (1...3).contains(words.count) && isKnownPlace(words.joined(separator: " "))
    }

    /// Whether `name` is a city the scorer knows or a country, in any case.
    private static func isKnownPlace(_ name: String) -> Bool {
        !RuleBasedScorer.countries(ofKnownCity: name).isEmpty || RuleBasedScorer.country(named: SignalDetector.normalize(name)) != nil
    }

    /// Small words in lowercase that join a name's capitalised words, as "&" and "+" do: "Bank of
    /// America", "Yes or No", "Universidad de Chile", "Made by Humans", "Women in Tech". Not
    /// "at", which starts another role in a bio ("Acme & CEO at Beta").
    private static let nameJoiners: Set<String> = [
        "of", "and", "or", "for", "the", "a", "an", "by", "on", "to", "in", "with", "de", "del", "della", "da", "do",
        "dos", "das", "des", "du", "di", "la", "le", "les", "el", "los", "van", "von", "der", "den", "y", "e", "et", "und",
    ]

    /// Articles written elided before the word they go with: "d'Italia", "l\u{2019}Intérieur", "dell'Arte".
    private static let elidedArticles = ["d", "l", "dell", "dall", "nell", "all", "sull"].flatMap { ["\($0)'", "\($0)\u{2019}"] }

    /// `word` without an elided article it starts with ("Italia" for "d'Italia").
    private static func withoutElidedArticle(_ word: Substring) -> Substring {
        guard let article = elidedArticles.first(where: word.hasPrefix) else { return word }
        return word.dropFirst(article.count)
    }

    /// Whether `word` starts with a capital or a digit, after an elided article ("d'Italia").
    private static func isCapitalised(_ word: Substring) -> Bool {
        withoutElidedArticle(word).first.map { $0.isUppercase || $0.isNumber } ?? false
    }

    /// Whether `word` is one of a name's small words: ``nameJoiners``, or an elided article alone.
    private static func isSmallWord(_ word: Substring) -> Bool {
        nameJoiners.contains(String(word)) || withoutElidedArticle(word).isEmpty
    }

    /// Whether `words`, which follow "and", "&" or "+" in an employer, start another role: the
    /// vocabulary reads a seniority or a function in them before an "at", "@" or "of" ("CEO at
    /// Beta", "Engineer at Beta", "Director of Beta"), or, with none, a founder or a chief
    /// ("co-founder", "CEO") or a seniority with a function ("VP Sales"). "Acme Marketing & Sales
    /// Co", "Acme Principal & Lead Consultants" and "Acme & Senior Living" are names: a lead or a
    /// senior alone is no role.
    private static func startsTitle(_ words: ArraySlice<Substring>, vocabulary: ScoringVocabulary) -> Bool {
        let marker = words.firstIndex { ["at", "of"].contains($0.lowercased()) || $0.hasPrefix("@") }
        let title = words[..<(marker ?? words.endIndex)].joined(separator: " ")
        guard let role = vocabulary.role(ofTitle: title) else { return false }
        guard marker == nil else { return role.seniority != nil || !role.functions.isEmpty }
        return [.founder, .cLevel].contains(role.seniority) || (role.seniority != nil && !role.functions.isEmpty)
    }

    /// Whether `words`, which follow "in" or "from" in an employer, start with a place: a place's
    /// abbreviation ("NYC", "UK"), or, in capitals, a city the scorer knows or a country ("London",
    /// "San Francisco", "Germany"; not "Tech" of "Women in Tech").
    private static func startsWithPlace(_ words: ArraySlice<Substring>) -> Bool {
        guard let first = words.first else { return false }
        if isPlaceAbbreviation(first) { return true }
        let capitalised = words.prefix { $0.first?.isUppercase == true }.prefix(3)
        guard !capitalised.isEmpty else { return false }
        return (1...capitalised.count).contains { isKnownPlace(capitalised.prefix($0).joined(separator: " ")) }
    }

    /// Whether `word` is a city's, country's or region's abbreviation in capitals ("NYC", "LA", "UK").
    private static func isPlaceAbbreviation(_ word: Substring) -> Bool {
        word.allSatisfy(\.isUppercase) && (Gazetteer.standard.isCityAbbreviation(String(word)) || regionAbbreviations.contains(word.lowercased()))
    }

    /// Whether the character at `index` of `text` ends the employer's name there: a comma, "!"
    /// or a bracket, or a dot unless a lowercase letter or a digit follows it ("Booking.com",
    /// "No.1") or an ending of two or three capitals that is no place written after the name
    /// (``isPlace(_:after:)``: "Character.AI", "GOV.UK", "Europa.EU"; not "Acme.NYC", where the
    /// person is, nor "Acme.Previously" or "Acme.I'm", a sentence after a missing space), it
    /// ends an abbreviation ("St. Jude") or it is the number sign of "No. 1".
    private static func endsName(at index: String.Index, in text: String) -> Bool {
        let character = text[index]
        guard character == "." else { return ",!()[]".contains(character) }
        let after = text[text.index(after: index)...]
        if let next = after.first, next.isLowercase || next.isNumber { return false }
        let capitals = after.prefix(while: \.isLetter)
        if (2...3).contains(capitals.count), capitals.allSatisfy(\.isUppercase), !isPlace(capitals, after: text[..<index]) {
            return false
        }
        let word = text[..<index].split(whereSeparator: { !$0.isLetter }).last?.lowercased()
        return !(word.map(abbreviations.contains) ?? false) && !isNumberSign(at: index, in: text)
    }

    /// Whether `capitals`, written after a dot that follows `name`, are where the person is, not
    /// the name's ending: a city's abbreviation (places.json's `cityAbbreviations`,
    /// ``Gazetteer/isCityAbbreviation(_:)``: "Acme.NYC based", "Acme.SF. Ex-Google", "Acme.LA";
    /// no US state's code but NY's and DC's, as the others are as often a domain's ending,
    /// "Acme.CO", "Acme.ME"), or a country's or region's (``regionAbbreviations``)
    /// before a word in lowercase ("Acme.UK and EU", "Acme.US based"), as those end domains
    /// ("Europa.EU", "Acme.US"); never after a word in capitals, a dotted name ("GOV.UK", "NHS.UK").
    private static func isPlace(_ capitals: Substring, after name: Substring) -> Bool {
        let word = name.reversed().prefix(while: \.isLetter)
        guard !word.allSatisfy(\.isUppercase) else { return false }
        if Gazetteer.standard.isCityAbbreviation(String(capitals)) { return true }
        let abbreviation = capitals.lowercased()
        guard regionAbbreviations.contains(abbreviation) else { return false }
        let rest = name.base[capitals.endIndex...]
        return rest.first?.isWhitespace == true && rest.drop(while: \.isWhitespace).first?.isLowercase == true
    }

    /// Abbreviations of countries and regions, lowercase, that people write after their employer
    /// and a dot for where they are ("Acme.UK and EU") and that end domains too ("Europa.EU").
    private static let regionAbbreviations: Set<String> = ["us", "usa", "uk", "eu", "uae", "nz", "sg", "hk"]

    /// Whether the character at `index` of `text` is the "." of "No." before a number ("The No. 1
    /// Agency", "No.1"), which ends no name.
    private static func isNumberSign(at index: String.Index, in text: String) -> Bool {
        guard text[index] == ".", text[..<index].lowercased().hasSuffix("no") else { return false }
        let word = text[..<index].dropLast(2)
        guard word.isEmpty || word.last?.isWhitespace == true else { return false }
        return startsWithNumber(text[text.index(after: index)...].drop(while: \.isWhitespace))
    }

    /// Whether `text` starts with a number as a word of its own ("1 Agency", "10,"), not with a
    /// digit of a word ("3x founder", "2nd time").
    private static func startsWithNumber(_ text: Substring) -> Bool {
        let digits = text.prefix(while: \.isNumber)
        return !digits.isEmpty && text.dropFirst(digits.count).first?.isLetter != true
    }
}

extension String {
    /// `trimmingCharacters(in: set)` (which also trims scalar by scalar) without Foundation's
    /// detour through NSString and UTF-16, which cost the scorer more than parsing a bio did.
    func trimming(_ set: CharacterSet) -> String {
        guard let first = unicodeScalars.firstIndex(where: { !set.contains($0) }),
              let last = unicodeScalars.lastIndex(where: { !set.contains($0) })
        else { return "" }
        return String(unicodeScalars[first...last])
    }
}
