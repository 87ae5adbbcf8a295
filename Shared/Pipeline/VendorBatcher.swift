// PLACEHOLDER until H4 merges
public final class VendorBatcher: Sendable {
    public let vendor: any PersonVendor
    public init(vendor: any PersonVendor, maxWait: Duration = .milliseconds(50), maxBatchSize: Int? = nil) { self.vendor = vendor }
    public func enrich(_ query: PersonQuery) async throws(ProviderError) -> VendorMatch { try await vendor.enrich([query])[0].get() }
}
