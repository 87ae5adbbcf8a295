import Foundation
import JSONCodec
import LeadModel
import LeadRules
import Runtime
import Synchronization

/// A vendor's circuit. Closed, the vendor is called. Its credits, quota or credentials failing
/// opens it: the waterfall skips the vendor until ``openSeconds`` have passed, then calls it again
/// (the next failure opens it again). It never touches a customer's account.
public final class VendorCircuit: Sendable {
    /// The vendor.
    public let vendor: String
    /// How long an open circuit skips the vendor.
    public let openSeconds: Double
    private let openUntil = Mutex<Date?>(nil)

    /// A closed circuit.
    public init(vendor: String, openSeconds: Double) {
        self.vendor = vendor
        self.openSeconds = openSeconds
    }

    /// When the circuit closes again, while it is open at `now`; nil when closed.
    public func reopensAt(now: Date) -> Date? {
        openUntil.withLock { until in
            guard let date = until, date > now else { return nil }
            return date
        }
    }

    /// Opens the circuit for ``openSeconds`` from `now`; true when it was closed.
    @discardableResult
    public func open(now: Date) -> Bool {
        openUntil.withLock { until in
            let wasClosed = until.map { $0 <= now } ?? true
            if wasClosed { until = now.addingTimeInterval(openSeconds) }
            return wasClosed
        }
    }

    /// Whether the circuit is open at `now`, written to `pipeline_vendor_circuit_open{vendor}`.
    func isOpen(now: Date, metrics: MetricsRegistry) -> Bool {
        let isOpen = reopensAt(now: now) != nil
        metrics.gauge(MetricNames.vendorCircuitOpen, ["vendor": vendor]).set(isOpen ? 1 : 0)
        return isOpen
    }

    /// Opens the circuit because of `error`. When it was closed: the gauge says 1, the warning
    /// `message` names the vendor, the error and when it reopens, and the gauge falls back to 0 once the
    /// circuit has closed, so a quiet process does not report a circuit open that has closed.
    func trip(
        _ error: ProviderError, message: String, metrics: MetricsRegistry, logger: Logger, now: @escaping @Sendable () -> Date
    ) {
        let at = now()
        guard open(now: at) else { return }
        metrics.gauge(MetricNames.vendorCircuitOpen, ["vendor": vendor]).set(1)
        logger.log(.warning, message, [
            "vendor": vendor, LogKey.error: error.description, "reopens_at": ISO8601.format(at.addingTimeInterval(openSeconds)),
        ])
        Task { [vendor, openSeconds] in
            try? await Task.sleep(for: .seconds(openSeconds))
            if self.reopensAt(now: now()) == nil { metrics.gauge(MetricNames.vendorCircuitOpen, ["vendor": vendor]).set(0) }
        }
    }
}

/// LinkedIn profiles from licensed data vendors, tried in order per group of fields.
///
/// - Identity and role: the ``identity`` vendors in order. The first whose match reaches
///   ``minimumConfidence`` gives the person. No match, a match below the minimum, an error, or
///   an open circuit: the next vendor.
/// - Company: the ``company`` vendors in order. A vendor that already answered for identity gives
///   its company without a second call; another vendor is asked for the same person and only its
///   company is kept. A company counts when it has details beyond a name (size, industry or
///   domain); else the identity match's company stays.
/// - Credits, quota or credentials failing at a vendor open its ``VendorCircuit``: a log line,
///   `pipeline_vendor_circuit_open{vendor}` 1, and the vendor is skipped until the circuit's time
///   has passed. Never a pause of the customer's account.
/// - The answer records which vendor gave which group and with what confidence
///   (``LinkedInProfile/sources``); ``VendorWaterfall/chargeableVendors`` names the vendors whose
///   matches were kept, each charged one credit, counted in `pipeline_vendor_credits_total{vendor}`.
/// - When no vendor matched: ``ProviderError/notFound`` when every vendor answered "no match" (or
///   matched below the minimum); else a retriable error (the last vendor error, or "no vendor
///   available" when every circuit is open), so the coordinator tries the lead again later.
public struct VendorWaterfall: LinkedInProvider {
    /// One vendor in a waterfall: how to look a person up (through its ``VendorBatcher`` in
    /// service) and its circuit.
    public struct Step: Sendable {
        /// The vendor's name.
        public var vendor: String
        /// Looks one person up.
        public var lookup: @Sendable (PersonQuery) async throws(ProviderError) -> VendorMatch
        /// The vendor's circuit, shared by every group the vendor is in.
        public var circuit: VendorCircuit

        /// Creates a step.
        public init(vendor: String, circuit: VendorCircuit, lookup: @escaping @Sendable (PersonQuery) async throws(ProviderError) -> VendorMatch) {
            self.vendor = vendor
            self.lookup = lookup
            self.circuit = circuit
        }
    }

    /// Vendors for the person, in order.
    public let identity: [Step]
    /// Vendors for the company, in order.
    public let company: [Step]
    /// The lowest confidence accepted, 0...1.
    public let minimumConfidence: Double
    private let metrics: MetricsRegistry
    private let logger: Logger
    private let now: @Sendable () -> Date

    /// Creates a waterfall. `company` defaults to the identity order.
    public init(
        identity: [Step], company: [Step]? = nil, minimumConfidence: Double, metrics: MetricsRegistry, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.identity = identity
        self.company = company ?? identity
        self.minimumConfidence = minimumConfidence
        self.metrics = metrics
        self.logger = logger
        self.now = now
        for step in identity + (company ?? []) {
            metrics.gauge(MetricNames.vendorCircuitOpen, ["vendor": step.vendor]).set(0)
            metrics.counter(MetricNames.vendorCredits, ["vendor": step.vendor]).increment(by: 0)
            for outcome in LookupOutcome.allCases {
                metrics.counter(MetricNames.vendorLookups, ["vendor": step.vendor, "outcome": outcome.rawValue]).increment(by: 0)
            }
        }
    }

    /// How one vendor lookup went, as counted in `pipeline_vendor_lookups_total`.
    enum LookupOutcome: String, CaseIterable {
        case match, noMatch = "no-match", lowConfidence = "low-confidence", error, skipped
    }

    /// See ``LinkedInProvider/fetchProfile(handle:lead:attempt:)``.
    public func fetchProfile(handle: String, lead: LeadIdentity?, attempt: Int) async throws(ProviderError) -> LinkedInEnrichment {
        guard case .success(let url) = ProfileURL.linkedin("https://www.linkedin.com/in/\(handle)"), url.handle == handle else {
            throw .permanent("vendors: \"\(handle)\" is not a valid LinkedIn handle")
        }
        let query = PersonQuery(linkedinHandle: url.handle, lead: lead)
        var tried = Tried()
        var person: VendorMatch?
        for step in identity {
            if let match = await ask(step, query, &tried) {
                person = match
                break
            }
            // Cut short by the request's stop: no other vendor is asked (and paid) for an answer
            // the request will not write.
            if tried.retriable == .cancelled { throw .cancelled }
        }
        guard let person else { throw tried.failure }

        var enrichment = person.enrichment
        var sources = [FieldSource(group: .identity, vendor: person.vendor, confidence: person.confidence)]
        var companySource = Self.hasDetails(person.enrichment.company) ? person : nil
        for step in company {
            if step.vendor == person.vendor {
                if Self.hasDetails(person.enrichment.company) { companySource = person; break }
                continue
            }
            // A vendor that had no usable answer for the person has none for the company either.
            guard !tried.asked.contains(step.vendor) else { continue }
            if let match = await ask(step, query, &tried), Self.hasDetails(match.enrichment.company) {
                companySource = match
                enrichment.company = match.enrichment.company
                break
            }
            if tried.retriable == .cancelled { throw .cancelled }
        }
        if let companySource {
            sources.append(FieldSource(group: .company, vendor: companySource.vendor, confidence: companySource.confidence))
        }
        enrichment.profile.sources = sources
        for vendor in Set(sources.map(\.vendor)) {
            metrics.counter(MetricNames.vendorCredits, ["vendor": vendor]).increment()
        }
        return enrichment
    }

    /// The vendors a successful enrichment charged (each one credit), from its sources.
    public static func chargeableVendors(_ enrichment: LinkedInEnrichment) -> [String] {
        Array(Set((enrichment.profile.sources ?? []).map(\.vendor))).sorted()
    }

    /// Whether a company says more than its name.
    static func hasDetails(_ company: Company?) -> Bool {
        guard let company else { return false }
        return company.employeeCount != nil || company.employeeRange != nil || company.industry != nil || company.domain != nil
    }

    /// What the vendors said so far, for the error when none matched.
    struct Tried {
        var retriable: ProviderError?
        var skipped: [String] = []
        var asked: Set<String> = []

        var failure: ProviderError {
            if let retriable { return retriable }
            if !skipped.isEmpty { return .transient("no vendor available: \(skipped.joined(separator: ", ")) skipped (circuit open)") }
            return .notFound
        }
    }

    /// The step's match when it reaches the minimum; nil otherwise, noting why in `tried`.
    private func ask(_ step: Step, _ query: PersonQuery, _ tried: inout Tried) async -> VendorMatch? {
        tried.asked.insert(step.vendor)
        if step.circuit.isOpen(now: now(), metrics: metrics) {
            count(step, .skipped)
            tried.skipped.append(step.vendor)
            return nil
        }
        do {
            let match = try await step.lookup(query)
            guard match.confidence >= minimumConfidence else {
                count(step, .lowConfidence)
                return nil
            }
            count(step, .match)
            return match
        } catch {
            switch error {
            case .notFound:
                count(step, .noMatch)
            case .outOfCredits, .unauthorized:
                // The platform's problem with this vendor, retried later; never the customer's.
                count(step, .error)
                step.circuit.trip(error, message: "vendor circuit opened: skipping the vendor", metrics: metrics, logger: logger, now: now)
                tried.retriable = .transient("\(step.vendor): \(error.description)")
            case .cancelled:
                tried.retriable = error
            default:
                // A permanent answer (a request the vendor refuses) falls through like no match.
                count(step, .error)
                if error.isRetriable { tried.retriable = error }
            }
            return nil
        }
    }

    private func count(_ step: Step, _ outcome: LookupOutcome) {
        metrics.counter(MetricNames.vendorLookups, ["vendor": step.vendor, "outcome": outcome.rawValue]).increment()
    }
}
