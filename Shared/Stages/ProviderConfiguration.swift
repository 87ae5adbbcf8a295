import Foundation
import LeadRules
import Runtime
import Streaming

/// Which providers the stages use, read from the environment in this one place.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PROVIDERS` | `simulated` | `simulated` (embedded, offline) or `http` (X API v2 and licensed data vendors for LinkedIn profiles) |
/// | `LINKEDIN_VENDORS` | `profile-api` when `LINKEDIN_API_BASE_URL` is set, else `pdl` | the identity-and-role waterfall: vendors in order, from `pdl`, `apollo`, `profile-api` |
/// | `COMPANY_VENDORS` | `LINKEDIN_VENDORS` | the company waterfall, same names |
/// | `VENDOR_MIN_CONFIDENCE` | 0.6 | lowest match confidence a waterfall accepts, 0...1 |
/// | `VENDOR_CIRCUIT_OPEN_SECONDS` | 300 | how long a vendor whose credits, quota or credentials failed is skipped, and a provider whose bearer key was rejected (X, the profile API, the model) stopped, 1...86400 |
/// | `VENDOR_BATCH_WAIT_MS` | 50 | longest a lookup waits for others to share a vendor's bulk call, 0...5000 (0: one call per lead) |
/// | `PDL_API_BASE_URL`, `PDL_API_KEY` / `PDL_API_KEY_FILE` | `https://api.peopledatalabs.com`, none | People Data Labs; the key is required when `pdl` is listed |
/// | `PDL_RATE_PER_MINUTE`, `PDL_RATE_BURST` | 100, 10 | People Data Labs calls per minute and burst, per process (a bulk call counts once) |
/// | `APOLLO_API_BASE_URL`, `APOLLO_API_KEY` / `APOLLO_API_KEY_FILE` | `https://api.apollo.io`, none | Apollo; the key is required when `apollo` is listed |
/// | `APOLLO_RATE_PER_MINUTE`, `APOLLO_RATE_BURST` | 100, 10 | Apollo calls per minute and burst, per process |
/// | `X_API_BASE_URL` | `https://api.x.com` | X API v2 base URL; the only host X calls go to |
/// | `X_BEARER_TOKEN` / `X_BEARER_TOKEN_FILE` | none | X app bearer token, or a file holding it; required with `PROVIDERS=http` |
/// | `LINKEDIN_API_BASE_URL` | none | base URL of a Proxycurl-shaped person-profile API (e.g. `https://nubela.co/proxycurl`); required when `LINKEDIN_VENDORS` lists `profile-api` (set, it makes `profile-api` the default) |
/// | `LINKEDIN_API_KEY` / `LINKEDIN_API_KEY_FILE` | none | its API key (sent as a bearer token); required when `profile-api` is listed |
/// | `X_RATE_PER_MINUTE`, `X_RATE_BURST` | 20, 5 | X calls per minute and burst, per process (every X call counts, pages included) |
/// | `LINKEDIN_RATE_PER_MINUTE`, `LINKEDIN_RATE_BURST` | 300, 10 | LinkedIn API calls per minute and burst, per process |
/// | `PROVIDER_TIMEOUT_SECONDS` | 15 | timeout of one X or LinkedIn HTTP call, 1...600 (whole seconds) |
/// | `PROVIDER_MAX_WAIT_SECONDS` | 30 | longest wait for a rate-limit slot; longer → the call fails as rate limited (retried by the coordinator) |
/// | `SCORER` | `rules` | `rules` (``RuleBasedScorer``) or `model` (``ModelScorer``, falling back to the rules) |
/// | `MODEL_BASE_URL` | none | OpenAI-compatible endpoint base (`POST <base>/v1/chat/completions`); required with `SCORER=model` |
/// | `MODEL_NAME` | none | the model to ask; required with `SCORER=model` |
/// | `MODEL_API_KEY` / `MODEL_API_KEY_FILE` | none | its API key; required with `SCORER=model` (any value for a local server) |
/// | `MODEL_TIMEOUT_SECONDS` | 20 | timeout of one model call, 1...600 (whole seconds); on expiry the rules score the lead |
/// | `MODEL_RATE_PER_MINUTE`, `MODEL_RATE_BURST` | 500, 10 | model calls per minute and burst, per process; a 429 pauses every model call of the process for its Retry-After |
///
/// Base URLs must be `https`, or `http` on a loopback host (tests, a local model server), and
/// carry no user, query or fragment. Formats are checked when the value is read; a missing key
/// is reported when a stage that needs it is built (`make…` below), both at start-up with the
/// variable's name. Keys are held as ``Secret``s: never logged, never printed.
public struct ProviderConfiguration: Sendable {
    /// Environment variable names this type reads.
    public enum Variable {
        public static let providers = "PROVIDERS"
        public static let xBaseURL = "X_API_BASE_URL"
        public static let xBearerToken = "X_BEARER_TOKEN"
        public static let linkedinBaseURL = "LINKEDIN_API_BASE_URL"
        public static let linkedinAPIKey = "LINKEDIN_API_KEY"
        public static let xRatePerMinute = "X_RATE_PER_MINUTE"
        public static let xRateBurst = "X_RATE_BURST"
        public static let linkedinRatePerMinute = "LINKEDIN_RATE_PER_MINUTE"
        public static let linkedinRateBurst = "LINKEDIN_RATE_BURST"
        public static let providerTimeout = "PROVIDER_TIMEOUT_SECONDS"
        public static let providerMaxWait = "PROVIDER_MAX_WAIT_SECONDS"
        public static let scorer = "SCORER"
        public static let modelBaseURL = "MODEL_BASE_URL"
        public static let modelName = "MODEL_NAME"
        public static let modelAPIKey = "MODEL_API_KEY"
        public static let modelTimeout = "MODEL_TIMEOUT_SECONDS"
        public static let modelRatePerMinute = "MODEL_RATE_PER_MINUTE"
        public static let modelRateBurst = "MODEL_RATE_BURST"
        public static let linkedinVendors = "LINKEDIN_VENDORS"
        public static let companyVendors = "COMPANY_VENDORS"
        public static let vendorMinConfidence = "VENDOR_MIN_CONFIDENCE"
        public static let vendorCircuitOpen = "VENDOR_CIRCUIT_OPEN_SECONDS"
        public static let vendorBatchWait = "VENDOR_BATCH_WAIT_MS"
        public static let pdlBaseURL = "PDL_API_BASE_URL"
        public static let pdlAPIKey = "PDL_API_KEY"
        public static let pdlRatePerMinute = "PDL_RATE_PER_MINUTE"
        public static let pdlRateBurst = "PDL_RATE_BURST"
        public static let apolloBaseURL = "APOLLO_API_BASE_URL"
        public static let apolloAPIKey = "APOLLO_API_KEY"
        public static let apolloRatePerMinute = "APOLLO_RATE_PER_MINUTE"
        public static let apolloRateBurst = "APOLLO_RATE_BURST"
        /// The suffix of the variable naming a file that holds a key (`X_BEARER_TOKEN_FILE`).
        public static let fileSuffix = "_FILE"
    }

    /// Where profiles and activity come from.
    public enum ProviderKind: String, Sendable, CaseIterable {
        /// The deterministic simulations (``SimulatedLinkedInProvider`` and friends).
        case simulated
        /// X API v2 and a LinkedIn person-profile API over HTTP.
        case http
    }

    /// A licensed person-data vendor a waterfall can list.
    public enum VendorKind: String, Sendable, CaseIterable {
        /// People Data Labs (``PeopleDataLabsVendor``).
        case pdl
        /// Apollo (``ApolloVendor``).
        case apollo
        /// A profile JSON API of the shape ``HTTPLinkedInProvider`` documents (``ProfileAPIVendor``).
        case profileAPI = "profile-api"
    }

    /// The vendor waterfalls and their vendors.
    public struct Vendors: Sendable {
        /// `LINKEDIN_VENDORS`: identity and role, in order.
        public var identity: [VendorKind]
        /// `COMPANY_VENDORS`: company details, in order.
        public var company: [VendorKind]
        /// `VENDOR_MIN_CONFIDENCE`.
        public var minimumConfidence: Double
        /// `VENDOR_CIRCUIT_OPEN_SECONDS`.
        public var circuitOpenSeconds: Double
        /// `VENDOR_BATCH_WAIT_MS`, in milliseconds.
        public var batchWaitMilliseconds: Int
        /// People Data Labs.
        public var pdl: API
        /// Apollo.
        public var apollo: API
    }

    /// Which scorer the scoring stage uses.
    public enum ScorerKind: String, Sendable, CaseIterable {
        /// ``RuleBasedScorer``.
        case rules
        /// ``ModelScorer`` with the rules as fallback.
        case model
    }

    /// One HTTP API: where, with which key, how fast.
    public struct API: Sendable {
        /// The base URL; its host is the only one called.
        public var baseURL: URL?
        /// The key; nil when not configured.
        public var key: Secret?
        /// Calls per minute for the process.
        public var ratePerMinute: Double
        /// Calls at once after a quiet period.
        public var burst: Int
        /// Timeout of one call, seconds.
        public var timeoutSeconds: Double
        /// The variable naming the base URL, for errors.
        public var baseURLVariable: String
        /// The variable naming the key, for errors.
        public var keyVariable: String

        /// The base URL and key, or the error naming what is missing. Asked only of an API the
        /// process calls, so a key still at ``ProviderConfiguration/placeholderKey`` stops only
        /// the process that would call with it.
        public func required() throws(ConfigurationError) -> (baseURL: URL, key: Secret) {
            guard let baseURL else { throw ConfigurationError(variable: baseURLVariable, problem: "required by the HTTP providers but not set") }
            guard let key else {
                throw ConfigurationError(
                    variable: keyVariable, problem: "required by the HTTP providers but neither it nor \(keyVariable)\(Variable.fileSuffix) is set")
            }
            if key.withValue({ $0 == ProviderConfiguration.placeholderKey }) {
                throw ConfigurationError(variable: keyVariable, problem: "is still the placeholder of Deploy/k8s/secret.yaml; set the real key")
            }
            return (baseURL, key)
        }
    }

    /// `PROVIDERS`.
    public var providers: ProviderKind
    /// `SCORER`.
    public var scorer: ScorerKind
    /// X API v2.
    public var x: API
    /// The LinkedIn person-profile API.
    public var linkedin: API
    /// The model endpoint.
    public var model: API
    /// `MODEL_NAME`.
    public var modelName: String?
    /// The vendor waterfalls for LinkedIn profiles (``ProviderKind/http`` only).
    public var vendors: Vendors
    /// `PROVIDER_MAX_WAIT_SECONDS`.
    public var maxRateLimitWaitSeconds: Double

    /// The default: simulated providers and the rule-based scorer.
    public static var simulated: ProviderConfiguration {
        // The empty environment cannot fail to parse.
        try! ProviderConfiguration(environment: [:])
    }

    /// Reads the configuration (see the type's documentation).
    /// - Throws: ``ConfigurationError`` naming the variable whose value is wrong.
    public init(environment: [String: String]) throws(ConfigurationError) {
        providers = try Self.choice(environment, Variable.providers, default: .simulated)
        scorer = try Self.choice(environment, Variable.scorer, default: .rules)
        let reader = EnvironmentReader(environment)
        let timeout = try Self.decimal(environment, Variable.providerTimeout, default: 15, range: 1...600)
        maxRateLimitWaitSeconds = try Self.decimal(environment, Variable.providerMaxWait, default: 30, range: 0...3_600)
        x = API(
            baseURL: try Self.baseURL(environment, Variable.xBaseURL) ?? URL(string: "https://api.x.com")!,
            key: try Self.secret(environment, Variable.xBearerToken),
            ratePerMinute: try Self.decimal(environment, Variable.xRatePerMinute, default: 20, range: 0.01...1_000_000),
            burst: try reader.integer(Variable.xRateBurst, default: 5, range: 1...10_000),
            timeoutSeconds: timeout, baseURLVariable: Variable.xBaseURL, keyVariable: Variable.xBearerToken)
        linkedin = API(
            baseURL: try Self.baseURL(environment, Variable.linkedinBaseURL),
            key: try Self.secret(environment, Variable.linkedinAPIKey),
            ratePerMinute: try Self.decimal(environment, Variable.linkedinRatePerMinute, default: 300, range: 0.01...1_000_000),
            burst: try reader.integer(Variable.linkedinRateBurst, default: 10, range: 1...10_000),
            timeoutSeconds: timeout, baseURLVariable: Variable.linkedinBaseURL, keyVariable: Variable.linkedinAPIKey)
        model = API(
            baseURL: try Self.baseURL(environment, Variable.modelBaseURL),
            key: try Self.secret(environment, Variable.modelAPIKey),
            ratePerMinute: try Self.decimal(environment, Variable.modelRatePerMinute, default: 500, range: 0.01...1_000_000),
            burst: try reader.integer(Variable.modelRateBurst, default: 10, range: 1...10_000),
            timeoutSeconds: try Self.decimal(environment, Variable.modelTimeout, default: 20, range: 1...600),
            baseURLVariable: Variable.modelBaseURL, keyVariable: Variable.modelAPIKey)
        let identity = try Self.vendorList(environment, Variable.linkedinVendors)
            ?? (environment[Variable.linkedinBaseURL].map { !$0.isEmpty } == true ? [.profileAPI] : [.pdl])
        vendors = Vendors(
            identity: identity, company: try Self.vendorList(environment, Variable.companyVendors) ?? identity,
            minimumConfidence: try reader.decimal(Variable.vendorMinConfidence, default: 0.6, range: 0...1),
            circuitOpenSeconds: try reader.decimal(Variable.vendorCircuitOpen, default: 300, range: 1...86_400),
            batchWaitMilliseconds: try reader.integer(Variable.vendorBatchWait, default: 50, range: 0...5_000),
            pdl: API(
                baseURL: try Self.baseURL(environment, Variable.pdlBaseURL) ?? URL(string: "https://api.peopledatalabs.com")!,
                key: try Self.secret(environment, Variable.pdlAPIKey),
                ratePerMinute: try reader.decimal(Variable.pdlRatePerMinute, default: 100, range: 0.01...1_000_000),
                burst: try reader.integer(Variable.pdlRateBurst, default: 10, range: 1...10_000),
                timeoutSeconds: timeout, baseURLVariable: Variable.pdlBaseURL, keyVariable: Variable.pdlAPIKey),
            apollo: API(
                baseURL: try Self.baseURL(environment, Variable.apolloBaseURL) ?? URL(string: "https://api.apollo.io")!,
                key: try Self.secret(environment, Variable.apolloAPIKey),
                ratePerMinute: try reader.decimal(Variable.apolloRatePerMinute, default: 100, range: 0.01...1_000_000),
                burst: try reader.integer(Variable.apolloRateBurst, default: 10, range: 1...10_000),
                timeoutSeconds: timeout, baseURLVariable: Variable.apolloBaseURL, keyVariable: Variable.apolloAPIKey))
        modelName = environment[Variable.modelName].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
    }

    // MARK: - Building providers

    /// The LinkedIn provider: simulated, or the ``VendorWaterfall`` of ``vendors``, each vendor
    /// called through its own ``VendorBatcher`` and circuit.
    /// - Throws: ``ConfigurationError`` naming a missing variable (HTTP only).
    public func makeLinkedInProvider(environment: PipelineEnvironment, metrics: MetricsRegistry = MetricsRegistry()) throws(ConfigurationError) -> any LinkedInProvider {
        guard providers == .http else { return SimulatedLinkedInProvider(settings: environment.simulation) }
        var steps: [VendorKind: VendorWaterfall.Step] = [:]
        for kind in vendors.identity + vendors.company where steps[kind] == nil {
            steps[kind] = try makeStep(kind, logger: environment.logger)
        }
        return VendorWaterfall(
            identity: vendors.identity.compactMap { steps[$0] }, company: vendors.company.compactMap { steps[$0] },
            minimumConfidence: vendors.minimumConfidence, metrics: metrics, logger: environment.logger)
    }

    /// The vendor of `kind`, and one circuit for it.
    public func makeVendor(_ kind: VendorKind, logger: Logger) throws(ConfigurationError) -> any PersonVendor {
        switch kind {
        case .pdl:
            // PDL filters by its own likelihood (1-10) before answering, so no match below the
            // waterfall's minimum is charged.
            let client = try makeClient(
                vendors.pdl, name: kind.rawValue, forbidden: .credentialsRejected, authentication: .header("X-Api-Key"),
                outOfCreditsStatuses: [402], logger: logger)
            return PeopleDataLabsVendor(client: client, minLikelihood: max(1, Int((vendors.minimumConfidence * 10).rounded(.up))))
        case .apollo:
            return ApolloVendor(client: try makeClient(
                vendors.apollo, name: kind.rawValue, forbidden: .credentialsRejected, authentication: .header(ApolloVendor.keyHeader),
                outOfCreditsStatuses: ApolloVendor.outOfCreditsStatuses, logger: logger))
        case .profileAPI:
            return ProfileAPIVendor(client: try makeClient(
                linkedin, name: kind.rawValue, forbidden: .outOfCredits, logger: logger))
        }
    }

    private func makeStep(_ kind: VendorKind, logger: Logger) throws(ConfigurationError) -> VendorWaterfall.Step {
        let batcher = VendorBatcher(
            vendor: try makeVendor(kind, logger: logger), maxWait: .milliseconds(vendors.batchWaitMilliseconds))
        return VendorWaterfall.Step(
            vendor: kind.rawValue, circuit: VendorCircuit(vendor: kind.rawValue, openSeconds: vendors.circuitOpenSeconds),
            lookup: { query throws(ProviderError) in try await batcher.enrich(query) })
    }

    /// The X provider: simulated, or ``HTTPXProvider``.
    /// - Throws: ``ConfigurationError`` naming a missing variable (HTTP only).
    public func makeXProvider(environment: PipelineEnvironment) throws(ConfigurationError) -> any XProvider {
        guard providers == .http else { return SimulatedXProvider(settings: environment.simulation) }
        return HTTPXProvider(client: try makeClient(x, name: "x", forbidden: .credentialsRejected, logger: environment.logger))
    }

    /// The activity provider: simulated, or ``HTTPActivityProvider`` (X recent posts).
    /// - Throws: ``ConfigurationError`` naming a missing variable (HTTP only).
    public func makeActivityProvider(environment: PipelineEnvironment) throws(ConfigurationError) -> any ActivityProvider {
        guard providers == .http else { return SimulatedActivityProvider(settings: environment.simulation) }
        let client = try makeClient(x, name: "x", forbidden: .credentialsRejected, logger: environment.logger)
        return HTTPActivityProvider(x: HTTPXProvider(client: client))
    }

    /// The model scorer when `SCORER=model`, else nil (the rules).
    /// - Throws: ``ConfigurationError`` naming a missing variable.
    public func makeModelScorer(environment: PipelineEnvironment) throws(ConfigurationError) -> ModelScorer? {
        guard scorer == .model else { return nil }
        guard let modelName else { throw ConfigurationError(variable: Variable.modelName, problem: "required with SCORER=model but not set") }
        let client = try makeClient(model, name: "model", forbidden: .credentialsRejected, logger: environment.logger)
        return ModelScorer(client: client, model: modelName, logger: environment.logger)
    }

    /// A client of `api`. A vendor's (`authentication` other than bearer) reports rejected
    /// credentials per call, for its circuit, instead of stopping; a bearer client stops for
    /// `VENDOR_CIRCUIT_OPEN_SECONDS`, as long as a vendor's circuit stays open.
    private func makeClient(
        _ api: API, name: String, forbidden: ProviderHTTPClient.ForbiddenMeaning,
        authentication: ProviderHTTPClient.Authentication = .bearer, outOfCreditsStatuses: Set<Int> = [], logger: Logger
    ) throws(ConfigurationError) -> ProviderHTTPClient {
        let (baseURL, key) = try api.required()
        let limiter = RateLimiter(ratePerMinute: api.ratePerMinute, burst: api.burst, maxWaitSeconds: maxRateLimitWaitSeconds)
        return ProviderHTTPClient(
            name: name, baseURL: baseURL, credential: key, timeoutSeconds: api.timeoutSeconds, limiter: limiter,
            forbidden: forbidden, authentication: authentication, rejection: authentication == .bearer ? .stop : .report,
            stopSeconds: vendors.circuitOpenSeconds,
            outOfCreditsStatuses: outOfCreditsStatuses, logger: logger)
    }

    /// A comma-separated list of vendor names, or nil when unset; unknown or repeated names are an error.
    static func vendorList(_ environment: [String: String], _ name: String) throws(ConfigurationError) -> [VendorKind]? {
        guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        var kinds: [VendorKind] = []
        for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            guard let kind = VendorKind(rawValue: word) else {
                let known = VendorKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigurationError(variable: name, problem: "'\(word)' is not a vendor (one of \(known))")
            }
            guard !kinds.contains(kind) else { throw ConfigurationError(variable: name, problem: "lists '\(word)' twice") }
            kinds.append(kind)
        }
        return kinds
    }

    // MARK: - Reading

    private static func choice<T: RawRepresentable & CaseIterable>(
        _ environment: [String: String], _ name: String, default value: T
    ) throws(ConfigurationError) -> T where T.RawValue == String {
        try EnvironmentReader(environment).choice(name, default: value)
    }

    private static func decimal(
        _ environment: [String: String], _ name: String, default value: Double, range: ClosedRange<Double>
    ) throws(ConfigurationError) -> Double {
        try EnvironmentReader(environment).decimal(name, default: value, range: range)
    }

    /// A base URL: https (or http on loopback), a host, no user, query or fragment; trailing `/` dropped.
    static func baseURL(_ environment: [String: String], _ name: String) throws(ConfigurationError) -> URL? {
        guard var text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        while text.hasSuffix("/") { text.removeLast() }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty, let url = components.url
        else { throw ConfigurationError(variable: name, problem: "'\(text)' is not an absolute URL") }
        guard components.user == nil, components.password == nil, components.query == nil, components.fragment == nil else {
            throw ConfigurationError(variable: name, problem: "must not carry a user, query or fragment")
        }
        let isLoopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
        guard scheme == "https" || (scheme == "http" && isLoopback) else {
            throw ConfigurationError(variable: name, problem: "must be https (http only on a loopback host)")
        }
        return url
    }

    /// The value `Deploy/k8s/secret.yaml` holds until the real keys replace it: refused as the
    /// key of an API the process calls (``API/required()``), so that a deployment left with it
    /// stops at start-up instead of calling with it. A key the process does not call with is left
    /// alone: a pod gets every key its service might use, whatever `PROVIDERS`, `SCORER` and the
    /// vendor lists choose.
    static let placeholderKey = "replace-me"

    /// The key from `NAME`, or from the file named by `NAME_FILE` (trimmed); nil when neither is set.
    static func secret(_ environment: [String: String], _ name: String) throws(ConfigurationError) -> Secret? {
        let fileVariable = name + Variable.fileSuffix
        let direct = environment[name].flatMap { $0.isEmpty ? nil : $0 }
        let path = environment[fileVariable].flatMap { $0.isEmpty ? nil : $0 }
        switch (direct, path) {
        case (nil, nil):
            return nil
        case (_?, _?):
            throw ConfigurationError(variable: name, problem: "set either \(name) or \(fileVariable), not both")
        case (let value?, nil):
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw ConfigurationError(variable: name, problem: "is blank") }
            return Secret(trimmed)
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(variable: fileVariable, problem: "cannot read the file '\(path)'")
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, !trimmed.contains("\n") else {
                throw ConfigurationError(variable: fileVariable, problem: "the file '\(path)' must hold one non-empty line")
            }
            return Secret(trimmed)
        }
    }
}

/// A credential. Its description and dump are redacted, so interpolating it into a log line or
/// an error prints `<redacted>`; only ``withValue(_:)`` hands out the text.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    /// Wraps `value`.
    public init(_ value: String) { self.value = value }

    /// Runs `body` with the secret's text (to build a request header).
    public func withValue<T>(_ body: (String) throws -> T) rethrows -> T { try body(value) }

    /// `<redacted>`.
    public var description: String { "<redacted>" }
    /// `<redacted>`.
    public var debugDescription: String { "<redacted>" }
    /// Reflects nothing of the value.
    public var customMirror: Mirror { Mirror(self, children: []) }
}

extension ProviderConfiguration {
    /// The profile finder's search: ``SimulatedProfileSearchProvider`` with `simulatedLatency`,
    /// or with `PROVIDERS=http` a ``VendorProfileSearch`` over the `LINKEDIN_VENDORS` that can
    /// search people (`profile-api` cannot and is left out), each with its own circuit of
    /// `VENDOR_CIRCUIT_OPEN_SECONDS`.
    /// - Throws: ``ConfigurationError`` naming a missing key of a listed vendor (HTTP only).
    public func makeProfileSearch(
        environment: PipelineEnvironment, simulatedLatency: Duration, metrics: MetricsRegistry = MetricsRegistry()
    ) throws(ConfigurationError) -> any ProfileSearchProvider {
        guard providers == .http else { return SimulatedProfileSearchProvider(latency: simulatedLatency) }
        var steps: [VendorProfileSearch.Step] = []
        for kind in vendors.identity where kind != .profileAPI {
            steps.append(VendorProfileSearch.Step(
                vendor: try makeVendor(kind, logger: environment.logger),
                circuit: VendorCircuit(vendor: kind.rawValue, openSeconds: vendors.circuitOpenSeconds)))
        }
        if steps.isEmpty {
            environment.logger.warning("no vendor in \(Variable.linkedinVendors) can search people (pdl, apollo): profile finding finds nothing")
        }
        return VendorProfileSearch(steps: steps, logger: environment.logger, metrics: metrics)
    }
}
