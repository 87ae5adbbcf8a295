import LeadModel

/// How a reader words a configuration it looked up and found no row for because the table
/// refused its latest record when read (``KafkaTable/refusal(of:)``): published, not unknown, with
/// the refusal and how to mend it. ``DeadLetterKind`` counts a letter so worded as
/// `unknown-configuration`.
public enum ConfigurationRefusal {
    /// An account's configuration refused when read (an outreach window in a time zone that does not exist, say).
    public static func account(_ accountID: AccountID, refusal: String) -> String {
        reason("account '\(accountID)'", refusal: refusal, publishAgain: "correctly (leadctl account put checks it)")
    }

    /// An offer's configuration refused when read (a list or a vocabulary beyond the bounds readers take).
    public static func offer(_ offerID: OfferID, refusal: String) -> String {
        reason("offer '\(offerID)'", refusal: refusal, publishAgain: "within the bounds (leadctl offer put checks them)")
    }

    private static func reason(_ subject: String, refusal: String, publishAgain: String) -> String {
        "\(subject): its configuration was published but refused when read (\(refusal)); publish it again \(publishAgain)"
    }
}
