import LeadModel

extension PhaseResult {
    /// The result as the coordinator reads it from its record, its payload unread.
    public var envelope: PhaseResultEnvelope {
        do {
            return try PhaseResultEnvelope(self)
        } catch {
            preconditionFailure("a test's result payload cannot be written: \(error)")
        }
    }
}
