import Foundation
import LeadModel
import LeadRules
import XCTest

private let now = Date(timeIntervalSince1970: 1_750_000_000)

/// A finished lead of `offer` with a LinkedIn profile of `title` at a company of `industry` and `employees`.
private func poolEntry(_ id: String, title: String, industry: String = "Software", employees: Int = 200,
                       offer: OfferID = "offer-old") -> LeadPoolEntry {
    var profile = EnrichedProfile(leadID: LeadID(id), name: "Person \(id)", linkedinURL: "https://www.linkedin.com/in/\(id)")
    profile.linkedin = LinkedInProfile(
        publicIdentifier: id, fullName: "Person \(id)", headline: title, jobTitle: title, company: "Co \(id)",
        companyLinkedInID: nil, location: "San Francisco, CA, United States", experiences: [], education: [],
        skills: ["outbound"], certifications: [], languages: [], connections: 500, followers: 100)
    profile.company = Company(name: "Co \(id)", employeeCount: employees, industry: industry)
    return LeadPoolEntry(profile: profile, accountID: "acct-old", offerID: offer, finishedAt: now)
}

/// A lead a search of `offer` found, with `linkedin`, not finished yet (no pool entry).
private func discovered(_ id: String, offer: OfferID, linkedin: String) -> LeadDiscovered {
    LeadDiscovered(leadID: LeadID(id), accountID: "acct-new", offerID: offer, sourceSearchID: "search-1", source: .keywordSearch,
                   name: "Person \(id)", linkedinURL: linkedin, discoveredAt: now)
}

/// A new offer of another account, looking for `titles` at US software companies of 50-1,000.
private func offer(titles: [String] = ["VP of Sales"], id: OfferID = "offer-new") -> OfferConfig {
    OfferConfig(offerID: id, accountID: "acct-new", name: "New",
                icp: IdealCustomerProfile(titles: titles, seniorities: [.vp], industries: ["software"],
                                          minimumEmployees: 50, maximumEmployees: 1000, locations: ["United States"]),
                updatedAt: now)
}

final class LeadPoolMatcherTests: XCTestCase {
    func testMatchesFittingProfilesAsScoringOnlyLeadsWithDeterministicIDs() {
        let pool = [
            poolEntry("fit", title: "VP of Sales", industry: "Software", employees: 200),
            poolEntry("misfit", title: "Intern", industry: "Farming", employees: 3),
            poolEntry("same-offer", title: "VP of Sales", industry: "Software", employees: 200, offer: "offer-new"),
            poolEntry("fit@offer-x", title: "VP of Sales", industry: "Software", employees: 200),
        ]
        let matches = LeadPoolMatcher(minimumFit: 60).matches(offer: offer(), pool: pool, at: now)
        XCTAssertEqual(matches.map(\.lead.leadID), ["fit@offer-new"])
        let lead = matches[0].lead
        XCTAssertEqual(lead.source, .leadPool)
        XCTAssertEqual(lead.mode, .scoringOnly)
        XCTAssertEqual(lead.accountID, "acct-new")
        XCTAssertEqual(lead.offerID, "offer-new")
        XCTAssertNoThrow(try lead.validate())
        XCTAssertEqual(LeadPoolMatcher(minimumFit: 60).matches(offer: offer(), pool: pool.reversed(), at: now).map(\.lead.leadID),
                       ["fit@offer-new"], "the same matches however the pool is ordered")
        XCTAssertTrue(LeadPoolMatcher(minimumFit: 101).matches(offer: offer(), pool: pool, at: now).isEmpty)
    }
}

extension LeadPoolMatcherTests {
    /// A match's orbit is labelled against the new offer's competitors, not the offer the lead was
    /// enriched for: the new offer's competitor is a competitor, the old offer's is an adjacent
    /// vendor (it is an organisation). Scored as sent, the match counted engagement with the other
    /// offer's competitor (another customer's competitor list, shown in this one's entry) and none
    /// with its own.
    func testAMatchsOrbitIsLabelledAgainstTheNewOffersCompetitors() throws {
        var entry = poolEntry("fit", title: "VP of Sales")
        let raw = RawActivity(posts: [], interactions: ["Salesloft", "Outreach"].map { name in
            Interaction(platform: .linkedin, handle: name.lowercased(), name: name, isOrganization: true, followers: 20_000,
                        count: 6, firstSeen: now.addingTimeInterval(-20 * 86_400), lastSeen: now.addingTimeInterval(-2 * 86_400))
        })
        entry.profile.activity = ActivityBuilder.build(raw: raw, competitors: ["Salesloft"], now: now)
        var newOffer = offer()
        newOffer.icp.competitors = ["Outreach"]
        let match = try XCTUnwrap(LeadPoolMatcher(minimumFit: 60).matches(offer: newOffer, pool: [entry], at: now).first)
        let orbit = try XCTUnwrap(match.lead.poolProfile?.activity?.orbit)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: orbit.map { ($0.name, $0.classification) }),
                       ["Outreach": .competitor, "Salesloft": .adjacentVendor])
        let card = RuleBasedScorer().score(profile: EnrichedProfile(startingRunOf: match.lead), offer: newOffer, source: .leadPool, now: now)
        let reasons = card.intentReasons.map(\.signal).joined(separator: " | ")
        XCTAssertTrue(reasons.contains("Outreach"), reasons)
        XCTAssertFalse(reasons.contains("competitor Salesloft"), reasons)
    }
}

final class OfferPoolMatchingTests: XCTestCase {
    /// A `lead.pool` partition as the loop reads it: records at offsets 0, 1, 2, …
    struct PoolLog {
        var records: [(key: String, entry: LeadPoolEntry?)] = []

        mutating func append(_ key: String, _ entry: LeadPoolEntry?, to state: inout OfferPoolMatching) {
            state.applyPoolRecord(key: key, at: .init(partition: 0, offset: Int64(records.count)), isTombstone: entry == nil)
            records.append((key, entry))
        }

        /// What the first pass of a scan of the log chooses for `offers` (``PersonSelection``).
        func chosen(_ state: OfferPoolMatching, for offers: [OfferConfig], now: Date) -> [OfferID: Set<String>] {
            var selection = state.makeSelection(for: offers)
            for (offset, record) in records.enumerated() {
                let position = OfferPoolMatching.Position(partition: 0, offset: Int64(offset))
                guard let entry = record.entry, state.selects(key: record.key, at: position) else { continue }
                state.select(for: offers, from: entry, key: record.key, at: position, now: now, into: &selection)
            }
            return selection.chosen()
        }

        /// What a scan of the log publishes for `offers`.
        func scan(_ state: OfferPoolMatching, for offers: [OfferConfig], now: Date) -> [LeadID] {
            records.enumerated().flatMap { offset, record -> [LeadID] in
                guard let entry = record.entry else { return [] }
                return state.matches(for: offers, from: entry, key: record.key, at: .init(partition: 0, offset: Int64(offset)), now: now)
                    .map(\.lead.leadID)
            }
        }

        /// What the loop publishes for `offers`: both passes of a scan (the chosen entries'
        /// matches), each match recorded as a lead of its offer as it is published.
        func publish(_ state: inout OfferPoolMatching, for offers: [OfferConfig], now: Date) -> [LeadID] {
            let choice = chosen(state, for: offers, now: now)
            var published: [LeadID] = []
            for (offset, record) in records.enumerated() {
                guard let entry = record.entry else { continue }
                let choosing = offers.filter { choice[$0.offerID]?.contains(record.key) == true }
                for match in state.matches(for: choosing, from: entry, key: record.key, at: .init(partition: 0, offset: Int64(offset)),
                                           now: now) {
                    state.applyDiscoveredLead(match.lead, key: match.lead.leadID.rawValue, account: nil)
                    published.append(match.lead.leadID)
                }
            }
            return published
        }
    }

    func testAScanMatchesEachLeadsLatestEntryOnlyAndNoMatchAlreadyInThePool() {
        var state = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 60))
        var log = PoolLog()
        log.append("alice", poolEntry("alice", title: "Intern"), to: &state)
        log.append("bobby", poolEntry("bobby", title: "VP of Sales"), to: &state)
        log.append("carol", poolEntry("carol", title: "VP of Sales"), to: &state)
        log.append("david", poolEntry("david", title: "VP of Sales", offer: "offer-new"), to: &state)
        log.append("alice", poolEntry("alice", title: "VP of Sales"), to: &state)  // re-enriched: this entry counts
        log.append("bobby", poolEntry("bobby", title: "Intern"), to: &state)  // and this one
        log.append("carol", nil, to: &state)  // a tombstone removes the lead
        XCTAssertEqual(state.latest, ["alice": .init(partition: 0, offset: 4), "bobby": .init(partition: 0, offset: 5),
                                      "david": .init(partition: 0, offset: 3)], "positions only, no profiles")
        XCTAssertEqual(state.scanEnds, [0: 6])

        XCTAssertEqual(log.scan(state, for: [offer()], now: now), ["alice@offer-new"],
                       "the latest entry of a fitting lead; none already in the offer; none removed")
        let leads = state.matches(for: [offer()], from: log.records[4].entry!, key: "alice", at: .init(partition: 0, offset: 4), now: now)
        XCTAssertEqual(leads.first?.lead.mode, .scoringOnly)
        XCTAssertEqual(leads.first?.lead.poolProfile, log.records[4].entry!.profile, "a match carries the profile the scan read")

        // The match reached the pool: indexed as an id, not as a lead to match.
        log.append("alice@offer-new", LeadPoolEntry(profile: log.records[4].entry!.profile, accountID: "acct-new",
                                                    offerID: "offer-new", finishedAt: now), to: &state)
        XCTAssertEqual(state.pooledMatches, ["alice@offer-new": .init(partition: 0, offset: 7)])
        XCTAssertNil(state.latest["alice@offer-new"])
        log.append("erin0", poolEntry("erin0", title: "Head of Sales"), to: &state)
        XCTAssertEqual(log.scan(state, for: [offer(titles: ["VP of Sales", "Head of Sales"])], now: now), ["erin0@offer-new"],
                       "matched again without the match already in the pool")
        XCTAssertEqual(log.scan(state, for: [offer(titles: ["Head of Sales"]), offer(id: "offer-other")], now: now),
                       ["david@offer-other", "alice@offer-other", "erin0@offer-new", "erin0@offer-other"],
                       "one scan matches several offers, in the pool's order")
        XCTAssertEqual(log.scan(OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 101)), for: [offer()], now: now), [],
                       "nothing is indexed in an empty state")
    }

    func testAnOfferNeedsMatchingOnceAndAgainOnlyWhenWhatItsFitReadsChanges() {
        var state = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 60))
        XCTAssertTrue(state.needsMatching(offer()))
        state.markMatched(offer())
        XCTAssertFalse(state.needsMatching(offer()), "the same offer again: nothing to do")
        var republished = offer()
        republished.name = "Renamed"
        republished.updatedAt = now.addingTimeInterval(60)
        XCTAssertFalse(state.needsMatching(republished), "same ICP: nothing to do")
        let changed = offer(titles: ["VP of Sales", "Head of Sales"])
        XCTAssertTrue(state.needsMatching(changed))
        state.markMatched(changed)
        XCTAssertFalse(state.needsMatching(changed))
        state.forgetOffer("offer-new")
        XCTAssertTrue(state.needsMatching(changed), "a deleted offer put again")

        // What else the fit reads: the offer's vocabulary.
        state.markMatched(changed)
        var vocabulary = changed
        vocabulary.vocabulary = VocabularyExtension(abbreviations: ["vpos": "vice president of sales"])
        XCTAssertTrue(state.needsMatching(vocabulary), "a new vocabulary reads titles anew")
        state.markMatched(vocabulary)
        XCTAssertFalse(state.needsMatching(vocabulary))
    }
}

/// One match per person and offer (``PersonSelection``).
final class PersonSelectionTests: XCTestCase {
    /// `entry` with its URLs replaced, finished `minutesAgo` before `now`.
    private func samePerson(as entry: LeadPoolEntry, id: String, linkedin: String?, x: String?, offer: OfferID = "offer-old",
                            minutesAgo: Double = 0) -> LeadPoolEntry {
        var copy = entry
        copy.leadID = LeadID(id)
        copy.profile.leadID = LeadID(id)
        copy.profile.linkedinURL = linkedin
        copy.profile.xURL = x
        copy.offerID = offer
        copy.finishedAt = now.addingTimeInterval(-minutesAgo * 60)
        return copy
    }

    func testAPersonInThePoolTwiceIsMatchedOnceFromTheFreshestEntry() {
        let bobby = poolEntry("bobby", title: "VP of Sales")
        let pool = [
            samePerson(as: bobby, id: "bobby", linkedin: "https://www.linkedin.com/in/bobby", x: nil, minutesAgo: 30),
            // The same person found again: the LinkedIn handle in capitals, an X profile as well.
            samePerson(as: bobby, id: "bobby-2", linkedin: "https://linkedin.com/in/BOBBY/", x: "https://x.com/Bob_X", minutesAgo: 10),
            // And a third time, known by the X handle only, finished earlier.
            samePerson(as: bobby, id: "a-bobby", linkedin: nil, x: "https://twitter.com/bob_x", minutesAgo: 60),
            poolEntry("carol", title: "VP of Sales"),
        ]
        XCTAssertEqual(LeadPoolMatcher(minimumFit: 60).matches(offer: offer(), pool: pool, at: now).map(\.lead.leadID),
                       ["bobby-2@offer-new", "carol@offer-new"])
        var tie = pool
        tie[0].finishedAt = tie[1].finishedAt
        XCTAssertEqual(LeadPoolMatcher(minimumFit: 60).matches(offer: offer(), pool: tie, at: now).map(\.lead.leadID),
                       ["bobby@offer-new", "carol@offer-new"], "finished together: the smallest lead id")
    }

    func testAPersonTheOfferHasAlreadyIsNotMatched() {
        let bobby = poolEntry("bobby", title: "VP of Sales")
        let pool = [
            bobby,
            samePerson(as: bobby, id: "bobby-new", linkedin: "https://www.linkedin.com/in/Bobby", x: nil, offer: "offer-new"),
            poolEntry("carol", title: "VP of Sales"),
        ]
        XCTAssertEqual(LeadPoolMatcher(minimumFit: 60).matches(offer: offer(), pool: pool, at: now).map(\.lead.leadID),
                       ["carol@offer-new"])
    }

    /// A person's freshest profile is what counts: one who no longer fits (an intern now) is
    /// not matched from an older entry, even one joined to it only through a third entry.
    func testTheFreshestEntryOfAPersonDecidesEvenWhenItDoesNotFit() {
        let bobby = poolEntry("bobby", title: "VP of Sales")
        var current = samePerson(as: poolEntry("bobby", title: "Intern"), id: "bobby-now",
                                 linkedin: "https://www.linkedin.com/in/bobby", x: "https://x.com/bob_x", minutesAgo: 1)
        current.profile.name = bobby.profile.name
        let pool = [
            samePerson(as: bobby, id: "bobby-li", linkedin: "https://www.linkedin.com/in/bobby", x: nil, minutesAgo: 30),
            samePerson(as: bobby, id: "bobby-x", linkedin: nil, x: "https://x.com/BOB_X", minutesAgo: 20),
            current,
        ]
        XCTAssertEqual(LeadPoolMatcher(minimumFit: 60).matches(offer: offer(), pool: pool, at: now).map(\.lead.leadID), [])
        XCTAssertEqual(LeadPoolMatcher(minimumFit: 60).matches(offer: offer(), pool: Array(pool.prefix(2)), at: now).map(\.lead.leadID),
                       ["bobby-li@offer-new", "bobby-x@offer-new"], "without the third entry, nothing says they are one person")
    }

    /// The scan's first pass (``OfferPoolMatching/select(for:from:key:at:now:into:)``): a person
    /// with a match in the pool (seen as its pool lead's id, or its own profile when that lead is
    /// gone) or an entry of the offer's own is not chosen again through another of their leads;
    /// an entry a later one of its lead replaced says nothing; each offer chooses for itself.
    func testAScanChoosesOnePoolLeadPerPersonAndOffer() {
        var state = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 60))
        var log = OfferPoolMatchingTests.PoolLog()
        let bobby = poolEntry("bobby", title: "VP of Sales")
        let carol = poolEntry("carol", title: "VP of Sales")
        log.append("bobby", bobby, to: &state)
        log.append("bobby-2", samePerson(as: bobby, id: "bobby-2", linkedin: "https://www.linkedin.com/in/BOBBY", x: nil,
                                         minutesAgo: -5), to: &state)
        log.append("carol", carol, to: &state)
        log.append("carol-2", samePerson(as: carol, id: "carol-2", linkedin: "https://www.linkedin.com/in/carol", x: nil,
                                         minutesAgo: -5), to: &state)
        log.append("erin0", poolEntry("erin0", title: "VP of Sales"), to: &state)
        log.append("erin0-other", samePerson(as: poolEntry("erin0", title: "VP of Sales"), id: "erin0-other",
                                             linkedin: "https://www.linkedin.com/in/erin0", x: nil, offer: "offer-other"), to: &state)
        // carol's match for offer-new reached the pool earlier.
        log.append("carol@offer-new", LeadPoolEntry(profile: carol.profile, accountID: "acct-new", offerID: "offer-new",
                                                    finishedAt: now), to: &state)
        // dave's first entry had bobby's URL and was the freshest; his latest has his own.
        log.append("dave", samePerson(as: bobby, id: "dave", linkedin: "https://www.linkedin.com/in/bobby", x: nil, minutesAgo: -10),
                   to: &state)
        log.append("dave", poolEntry("dave", title: "VP of Sales"), to: &state)
        // gony's match for offer-other is in the pool, gony's own entry is gone; gony-2 is gony.
        let gony = poolEntry("gony", title: "VP of Sales")
        log.append("gony", gony, to: &state)
        log.append("gony@offer-other", LeadPoolEntry(profile: gony.profile, accountID: "acct-new", offerID: "offer-other",
                                                     finishedAt: now), to: &state)
        log.append("gony", nil, to: &state)
        log.append("gony-2", samePerson(as: gony, id: "gony-2", linkedin: "https://www.linkedin.com/in/gony", x: nil), to: &state)

        XCTAssertEqual(state.selectionEnds, [0: Int64(log.records.count)], "up to the last record")
        XCTAssertEqual(log.chosen(state, for: [offer(), offer(id: "offer-other")], now: now), [
            "offer-new": ["bobby-2", "erin0", "dave", "gony-2"],
            "offer-other": ["bobby-2", "carol-2", "dave"],
        ], """
        bobby's fresher entry for both; carol in offer-new already (a match); erin0 in offer-other already (its lead);         dave's replaced entry says nothing; gony in offer-other already (a match whose lead is gone)
        """)
    }

    /// Appends ed's two entries, one known by LinkedIn, the other (older) by X; returns the
    /// entry of an earlier lead of ed's with both URLs, which the caller places.
    private func appendEd(to log: inout OfferPoolMatchingTests.PoolLog, _ state: inout OfferPoolMatching) -> LeadPoolEntry {
        let ed = poolEntry("ed", title: "VP of Sales")
        log.append("ed-li", samePerson(as: ed, id: "ed-li", linkedin: "https://www.linkedin.com/in/ed-s", x: nil), to: &state)
        log.append("ed-x", samePerson(as: ed, id: "ed-x", linkedin: nil, x: "https://x.com/ed_s", minutesAgo: 5), to: &state)
        return samePerson(as: ed, id: "ed-old", linkedin: "https://www.linkedin.com/in/ed-s", x: "https://x.com/ed_s")
    }

    /// A match whose pool lead is gone joins its URLs in every scan, whichever offers it
    /// matches: the choice does not depend on the offers scanned. Only its latest version counts,
    /// and its key is read up to its first '@' (an offer id may hold one).
    func testAMatchWhosePoolLeadIsGoneJoinsItsPersonWhateverTheOffersScanned() {
        var state = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 60))
        var log = OfferPoolMatchingTests.PoolLog()
        let both = appendEd(to: &log, &state)
        // ed's earlier lead, with both URLs, matched into another offer, then removed.
        log.append("ed-old", both, to: &state)
        log.append("ed-old@a@b", LeadPoolEntry(profile: both.profile, accountID: "acct-new", offerID: "a@b", finishedAt: now),
                   to: &state)
        log.append("ed-old", nil, to: &state)
        // A match removed: its earlier version says nothing.
        log.append("zed@b", LeadPoolEntry(profile: poolEntry("zed", title: "VP of Sales").profile, accountID: "acct-new",
                                          offerID: "b", finishedAt: now), to: &state)
        log.append("zed@b", nil, to: &state)
        XCTAssertEqual(state.selectionEnds, [0: 4], "up to the match whose pool lead is gone")

        func chosen(for offers: [OfferConfig]) -> [OfferID: Set<String>] { log.chosen(state, for: offers, now: now) }
        XCTAssertEqual(chosen(for: [offer()]), ["offer-new": ["ed-li"]], "one person through the match, its offer not scanned")
        XCTAssertEqual(chosen(for: [offer(id: "b")]), ["b": ["ed-li"]], "the match is a@b's, not b's")
        XCTAssertEqual(chosen(for: [offer(id: "a@b")]), [:], "a@b has ed already")
    }

    /// The pool matcher over a pool in memory chooses as a scan does, with matches whose pool
    /// lead is gone and a discovered lead whose id holds '@' (in its own offer, not in the offer
    /// its id seems to name).
    func testThePoolMatcherChoosesAsAScanDoes() {
        var state = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 60))
        var log = OfferPoolMatchingTests.PoolLog()
        let both = appendEd(to: &log, &state)
        log.append("ed-old@offer-other", LeadPoolEntry(profile: both.profile, accountID: "acct-new", offerID: "offer-other",
                                                       finishedAt: now), to: &state)
        let jane = poolEntry("jane", title: "VP of Sales")
        log.append("jane@acme.com", samePerson(as: jane, id: "jane@acme.com", linkedin: "https://www.linkedin.com/in/jane-r", x: nil,
                                               offer: "offer-new"), to: &state)
        log.append("jane-2", samePerson(as: jane, id: "jane-2", linkedin: "https://www.linkedin.com/in/jane-r", x: nil, minutesAgo: 1),
                   to: &state)
        let pool = log.records.compactMap(\.entry)
        for offers in [[offer()], [offer(id: "offer-other")], [offer(id: "acme.com")]] {
            let scanned = (log.chosen(state, for: offers, now: now)[offers[0].offerID] ?? []).map { LeadPoolMatcher.matchedLeadID(LeadID($0), offerID: offers[0].offerID) }
            let matched = LeadPoolMatcher(minimumFit: 60).matches(offer: offers[0], pool: pool, at: now).map(\.lead.leadID)
            XCTAssertEqual(Set(scanned), Set(matched), "\(offers[0].offerID)")
        }
        XCTAssertEqual(LeadPoolMatcher(minimumFit: 60).matches(offer: offer(), pool: pool, at: now).map(\.lead.leadID), ["ed-li@offer-new"],
                       "jane is in offer-new already")
        XCTAssertEqual(LeadPoolMatcher(minimumFit: 60).matches(offer: offer(id: "acme.com"), pool: pool, at: now).map(\.lead.leadID),
                       ["ed-li@acme.com", "jane-2@acme.com"])
    }
}

extension LeadPoolMatcherTests {
    /// A person who posts a lot: their entry's activity text (every post rendered) runs past the
    /// 10,000 characters a string of a discovered lead may have, and a post of their own may too.
    /// Their match must still be a lead the coordinator reads: it was refused (too long) for
    /// every offer, so the people with the most activity were never matched from the pool.
    func testAProlificPostersMatchIsALeadTheCoordinatorReads() throws {
        var entry = poolEntry("fit", title: "VP of Sales")
        var posts = (0..<60).map {
            Post(id: "p\($0)", platform: .linkedin, date: now.addingTimeInterval(-Double($0) * 86_400),
                 text: String(repeating: "Rebuilding our outbound motion this quarter. ", count: 6), likes: 1, replies: 0, reposts: 0,
                 url: "https://www.linkedin.com/feed/update/\($0)")
        }
        posts[0].text = String(repeating: "A long article about pipeline. ", count: 400)
        posts[2].text = "Pasted from a PDF:\u{0} our pipeline review"
        entry.profile.activity = Activity(posts: posts, plainText: ActivityBuilder.renderPlainText(posts, now: now), orbit: [],
                                          signalDate: posts[0].date)
        XCTAssertGreaterThan(entry.profile.activity?.plainText.unicodeScalars.count ?? 0, FieldLimit.text)
        let match = try XCTUnwrap(LeadPoolMatcher(minimumFit: 60).matches(offer: offer(), pool: [entry], at: now).first)
        let codec = MessageCodec()
        let read = try codec.decode(LeadDiscovered.self, from: try codec.encode(match.lead))
        XCTAssertEqual(read.poolProfile?.activity?.posts.count, 60, "every post")
        XCTAssertEqual(read.poolProfile?.activity?.plainText, "", "rendered where it is read, as a phase result's is")
        XCTAssertEqual(read.poolProfile?.activity?.posts[0].text.unicodeScalars.count, FieldLimit.text, "a post cut at the limit")
        XCTAssertEqual(read.poolProfile?.activity?.posts[1].text, posts[1].text)
        XCTAssertEqual(read.poolProfile?.activity?.posts[2].text, "Pasted from a PDF: our pipeline review", "without NUL, refused in an input")
    }
}

/// A lead of an offer that is not in the pool yet (a search's still running, or a match published
/// and not finished) has its person in the offer: the domain rule says leads already present for
/// an offer are not duplicated, and before this the scan saw the pool only.
extension PersonSelectionTests {
    /// A match published in this run counts at once: a fresher entry of the same person that
    /// lands before the match finishes is not matched into the offer again under another id.
    func testAMatchPublishedAndNotFinishedKeepsItsPersonFromBeingMatchedAgain() {
        var state = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 60))
        var log = OfferPoolMatchingTests.PoolLog()
        let bobby = poolEntry("bobby", title: "VP of Sales")
        log.append("bobby", samePerson(as: bobby, id: "bobby", linkedin: "https://www.linkedin.com/in/bobby", x: nil, minutesAgo: 30),
                   to: &state)
        XCTAssertEqual(log.publish(&state, for: [offer()], now: now), ["bobby@offer-new"])
        log.append("bobby-2", samePerson(as: bobby, id: "bobby-2", linkedin: "https://www.linkedin.com/in/bobby", x: nil,
                                         offer: "offer-other", minutesAgo: 10), to: &state)
        XCTAssertEqual(log.chosen(state, for: [offer()], now: now), [:], "bobby is in offer-new already: bobby@offer-new is running")
        XCTAssertEqual(log.chosen(state, for: [offer(id: "offer-third")], now: now), ["offer-third": ["bobby-2"]],
                       "another offer still gets bobby's fresher entry")

        // The match finishes: its pool entry says the same, and the running lead is let go.
        log.append("bobby@offer-new", LeadPoolEntry(profile: bobby.profile, accountID: "acct-new", offerID: "offer-new",
                                                    finishedAt: now), to: &state)
        XCTAssertTrue(state.running.isEmpty)
        XCTAssertEqual(log.chosen(state, for: [offer()], now: now), [:])
    }

    /// A person a search found for the offer, still running, with a pool entry from another
    /// offer: the offer's scan (a new offer, an ICP change, a restart) does not match them again.
    /// The person is known by their URL as the pool knows it (case and a trailing slash aside).
    func testAPersonDiscoveredForTheOfferAndStillRunningIsNotMatched() {
        var state = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 60))
        var log = OfferPoolMatchingTests.PoolLog()
        log.append("bobby", poolEntry("bobby", title: "VP of Sales"), to: &state)
        state.applyDiscoveredLead(discovered("lead-9", offer: "offer-new", linkedin: "https://LinkedIn.com/in/BOBBY/"), key: "lead-9", account: nil)
        XCTAssertEqual(log.chosen(state, for: [offer()], now: now), [:])
        XCTAssertEqual(state.running.mapValues { $0.offers.map(\.offerID) }, ["lead-9": ["offer-new"]])
        XCTAssertEqual(state.running["lead-9"]?.persons, ["linkedin:bobby"], "URL keys, as the pool's")

        // It finishes: its pool entry (of offer-new) says the same.
        log.append("lead-9", samePerson(as: poolEntry("lead-9", title: "VP of Sales"), id: "lead-9",
                                        linkedin: "https://www.linkedin.com/in/bobby", x: nil, offer: "offer-new"), to: &state)
        XCTAssertTrue(state.running.isEmpty)
        XCTAssertEqual(log.chosen(state, for: [offer()], now: now), [:])
        state.applyDiscoveredLead(discovered("lead-9", offer: "offer-new", linkedin: "https://LinkedIn.com/in/BOBBY/"), key: "lead-9", account: nil)
        XCTAssertTrue(state.running.isEmpty, "read after its pool entry (a reading started over): not held")
    }

    /// A discovered lead the coordinator refuses never runs, so it keeps no one out: one of
    /// another account than its offer's, one its account does not let run (enrichment not
    /// allowed), one keyed otherwise than its id (dead-lettered). A record of the same id sent
    /// again corrected (the first refused) runs, and counts.
    func testADiscoveredLeadTheCoordinatorRefusesKeepsNoOneOut() {
        var state = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 60))
        var log = OfferPoolMatchingTests.PoolLog()
        log.append("bobby", poolEntry("bobby", title: "VP of Sales"), to: &state)
        var otherAccount = discovered("lead-1", offer: "offer-new", linkedin: "https://www.linkedin.com/in/bobby")
        otherAccount.accountID = "acct-other"
        state.applyDiscoveredLead(otherAccount, key: "lead-1", account: nil)
        var noEnrichment = AccountConfig(accountID: "acct-new", updatedAt: now)
        noEnrichment.allowsEnrichment = false
        state.applyDiscoveredLead(discovered("lead-2", offer: "offer-new", linkedin: "https://www.linkedin.com/in/bobby"),
                                  key: "lead-2", account: noEnrichment)
        state.applyDiscoveredLead(discovered("lead-3", offer: "offer-new", linkedin: "https://www.linkedin.com/in/bobby"),
                                  key: "lead-3b", account: nil)
        XCTAssertEqual(log.chosen(state, for: [offer()], now: now), ["offer-new": ["bobby"]])

        // Refused for an offer of another account, then sent again corrected: the second runs.
        var misrouted = discovered("lead-4", offer: "offer-new", linkedin: "https://www.linkedin.com/in/bobby")
        misrouted.accountID = "acct-other"
        state.applyDiscoveredLead(misrouted, key: "lead-4", account: nil)
        XCTAssertEqual(log.chosen(state, for: [offer()], now: now), ["offer-new": ["bobby"]])
        state.applyDiscoveredLead(discovered("lead-4", offer: "offer-new", linkedin: "https://www.linkedin.com/in/bobby"),
                                  key: "lead-4", account: nil)
        XCTAssertEqual(state.running["lead-4"]?.offers.map(\.accountID), ["acct-other", "acct-new"])
        XCTAssertEqual(log.chosen(state, for: [offer()], now: now), [:], "the corrected record runs in offer-new")
    }

    /// Only the person and only the offer: a discovered lead of someone else, or of bobby for
    /// another offer, leaves bobby's match for offer-new as it was.
    func testADiscoveredLeadKeepsOnlyItsOwnPersonOutOfItsOwnOffer() {
        var state = OfferPoolMatching(matcher: LeadPoolMatcher(minimumFit: 60))
        var log = OfferPoolMatchingTests.PoolLog()
        log.append("bobby", poolEntry("bobby", title: "VP of Sales"), to: &state)
        state.applyDiscoveredLead(discovered("lead-7", offer: "offer-new", linkedin: "https://www.linkedin.com/in/carol"), key: "lead-7", account: nil)
        state.applyDiscoveredLead(discovered("lead-8", offer: "offer-other", linkedin: "https://www.linkedin.com/in/bobby"), key: "lead-8", account: nil)
        XCTAssertEqual(log.chosen(state, for: [offer()], now: now), ["offer-new": ["bobby"]])
        XCTAssertEqual(log.chosen(state, for: [offer(), offer(id: "offer-other")], now: now), ["offer-new": ["bobby"]],
                       "offer-other has bobby (lead-8)")
    }
}
