import Foundation
import LeadModel
import LeadRules
import Runtime

/// Profile finding through licensed person-data vendors: a LinkedIn profile found by name,
/// company and (when the lead's X profile gives one) location.
///
/// - LinkedIn queries: the vendors are asked in order with a ``PersonSearch``; the first that
///   returns usable candidates answers, each match becoming
///   `https://www.linkedin.com/in/<public identifier>` with the vendor's confidence, best first.
///   The confidence threshold is not applied here: the profile finder applies its own (and the
///   account's) to what comes back, so a vendor's low-confidence candidates are the answer and the
///   next vendor is not asked.
/// - X queries: `[]` without a call. The vendors' records map LinkedIn profiles only
///   (``VendorMatch`` carries a ``LinkedInEnrichment``), so no vendor can name an X handle.
/// - A query without a company (or a name): `[]` without a call; the vendors need both.
/// - A vendor's credits, quota or credentials failing (``ProviderError/outOfCredits``,
///   ``ProviderError/unauthorized(_:)``) opens its ``VendorCircuit`` with a log line, and the next
///   vendor is asked; a vendor whose circuit is open is skipped until it closes. Any other error
///   falls through to the next vendor too.
/// - When no vendor returned candidates: `[]` when every vendor was asked and answered (or
///   refused the request permanently); else the last retriable error, or a transient "no vendor
///   available" when a vendor was skipped, so that the failure is reported as such rather than as
///   "nobody found".
/// - Cancellation is thrown at once, without asking further vendors.
public struct VendorProfileSearch: ProfileSearchProvider {
    /// One vendor to search and its circuit.
    public struct Step: Sendable {
        /// The vendor.
        public var vendor: any PersonVendor
        /// The vendor's circuit (this search's own; the stages' waterfalls have theirs).
        public var circuit: VendorCircuit

        /// Creates a step.
        public init(vendor: any PersonVendor, circuit: VendorCircuit) {
            self.vendor = vendor
            self.circuit = circuit
        }
    }

    /// The vendors, in the order asked.
    public let steps: [Step]
    private let logger: Logger
    private let metrics: MetricsRegistry
    private let now: @Sendable () -> Date

    /// Creates a search over `steps` in order; credits used and open circuits are counted in
    /// `metrics` (`pipeline_vendor_credits_total`, `pipeline_vendor_circuit_open`).
    public init(steps: [Step], logger: Logger, metrics: MetricsRegistry = MetricsRegistry(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.steps = steps
        self.logger = logger
        self.metrics = metrics
        self.now = now
        for step in steps {
            metrics.counter(MetricNames.vendorCredits, ["vendor": step.vendor.name]).increment(by: 0)
            metrics.gauge(MetricNames.vendorCircuitOpen, ["vendor": step.vendor.name]).set(0)
        }
    }

    /// See ``ProfileSearchProvider/search(_:)`` and the type's documentation.
    public func search(_ query: ProfileQuery) async throws(ProviderError) -> [ProfileCandidate] {
        guard let search = Self.personSearch(for: query) else { return [] }
        var retriable: ProviderError?
        var skipped: [String] = []
        for step in steps {
            if step.circuit.isOpen(now: now(), metrics: metrics) {
                skipped.append(step.vendor.name)
                continue
            }
            do {
                let matches = try await step.vendor.search(search)
                let credits = matches.reduce(0) { $0 + $1.credits }
                if credits > 0 { metrics.counter(MetricNames.vendorCredits, ["vendor": step.vendor.name]).increment(by: Double(credits)) }
                let candidates = Self.candidates(from: matches)
                if !candidates.isEmpty { return candidates }
            } catch {
                switch error {
                case .cancelled:
                    throw error
                case .outOfCredits, .unauthorized:
                    retriable = error
                    step.circuit.trip(error, message: "vendor circuit opened: profile search skips the vendor", metrics: metrics, logger: logger, now: now)
                default:
                    if error.isRetriable { retriable = error }
                }
            }
        }
        if let retriable { throw retriable }
        if !skipped.isEmpty { throw .transient("no vendor available: \(skipped.joined(separator: ", ")) skipped (circuit open)") }
        return []
    }

    /// The vendor search for a LinkedIn query with a name and a company; nil otherwise.
    static func personSearch(for query: ProfileQuery) -> PersonSearch? {
        let name = query.name.trimmingCharacters(in: .whitespacesAndNewlines)
        let company = (query.company ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard query.platform == .linkedin, !name.isEmpty, !company.isEmpty else { return nil }
        let location = query.location?.trimmingCharacters(in: .whitespacesAndNewlines)
        return PersonSearch(name: name, company: company, location: location?.isEmpty == true ? nil : location)
    }

    /// LinkedIn candidates of `matches`, best first, one per profile (its best confidence); a
    /// match whose identifier is not a valid LinkedIn handle is left out.
    static func candidates(from matches: [VendorMatch]) -> [ProfileCandidate] {
        var seen = Set<String>()
        // Best first; equal confidences keep the vendor's order.
        return matches.enumerated()
            .sorted { $0.element.confidence != $1.element.confidence ? $0.element.confidence > $1.element.confidence : $0.offset < $1.offset }
            .compactMap { _, match in
                let handle = match.enrichment.profile.publicIdentifier
                guard case .success(let url) = ProfileURL.linkedin("https://www.linkedin.com/in/\(handle)"), url.handle == handle,
                    seen.insert(url.canonical).inserted
                else { return nil }
                return ProfileCandidate(platform: .linkedin, url: url.canonical, confidence: match.confidence)
            }
    }
}
