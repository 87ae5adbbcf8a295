import Foundation
import Runtime

/// The usage texts of `leadctl` and its commands, defined once.
public enum Usage {
    static let connection = """
        Connection (every command):
          --bootstrap HOST:PORT[,...]  overrides KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092)
          --namespace NS               overrides PIPELINE_NAMESPACE (topic prefix "NS.")
        Other settings come from the environment: PIPELINE_PARTITIONS, KAFKA_PROPERTY_*, KAFKA_PROPERTIES_FILE.
        """

    /// Every command, in the order `leadctl help` lists them: the one source of their options
    /// (``CommandSpec``), which the general usage lists and the parser accepts.
    public static let commands = [
        CommandSpec(usage: topicsCreate, ("topics create", "create every topic of the namespace")),
        CommandSpec(usage: topicsDelete, ("topics delete --yes", "delete every topic of a (test) namespace")),
        CommandSpec(usage: publish,
                    ("publish --file PATH [--format jsonl|csv] [--publish-invalid]", "publish leads from JSON Lines or CSV"),
                    ("publish --synthetic N [--account A] [--offer O] [--search S] [--mode M] [--seed S]",
                     "publish N deterministic synthetic leads")),
        CommandSpec(usage: accountPut, ("account put --file PATH", "publish an account configuration")),
        CommandSpec(usage: accountSample, ("account sample", "print a sample account configuration")),
        CommandSpec(usage: offerPut, ("offer put --file PATH", "publish an offer configuration")),
        CommandSpec(usage: offerSample, ("offer sample", "print a sample offer configuration")),
        CommandSpec(usage: searchTotal,
                    ("search total --search S --account A --total N [--move-account]", "declare how many leads a search produced")),
        CommandSpec(usage: reEnrich, aliases: ["re-enrich"],
                    ("reenrich LEAD_ID --types linkedin,x,activity [--requested-by WHO] [--request-id ID]", "refresh parts of a lead")),
        CommandSpec(usage: leadOverride,
                    ("lead override LEAD_ID --state manual|disqualified --reason TEXT [--requested-by WHO]", ""),
                    ("lead override LEAD_ID --clear [--reason TEXT] [--requested-by WHO]",
                     "set or end a person's override of a buyer state")),
        CommandSpec(usage: show, ("show LEAD_ID [--json]", "the coordinator's state of a lead")),
        CommandSpec(usage: poolTail,
                    ("pool tail [--from-beginning] [--count N] [--timeout S] [--json]", "follow the lead pool")),
        CommandSpec(usage: poolMatch,
                    ("pool match --offer O [--min-fit N] [--dry-run]", "publish pool profiles fitting an offer as leads")),
        CommandSpec(usage: deadLettersList, ("dead-letters list [--json]", "list dead letters")),
        CommandSpec(usage: deadLettersReplay,
                    ("dead-letters replay P@O|--all [--file PATH]", "re-publish dead letters to their source topic")),
        CommandSpec(usage: progress, ("progress [--search S] [--watch] [--json]", "per-search and per-account progress")),
        CommandSpec(usage: heat, ("heat [--account A] [--all] [--json]", "each company's account heat, hottest first")),
        CommandSpec(usage: lag,
                    ("lag [--window S] [--interval S] [--watch] [--json] [--max-lag N]", "status and lag of every consumer group")),
        CommandSpec(usage: billing,
                    ("billing pause|resume --account A [--reason TEXT]", "stop or restart paid phases of an account")),
    ]

    /// `leadctl help`: every command's forms from ``commands``.
    public static let general = """
        leadctl: the operator's and upstream's command line of the lead enrichment pipeline.

        Usage: leadctl COMMAND [OPTIONS]

        Commands:
        \((commands.flatMap(\.forms) + [CommandSpec.Form("help [COMMAND]", "this text, or a command's usage"),
                                          CommandSpec.Form("version, --version", "the version of leadctl")]).map(\.line).joined(separator: "\n"))

        \(connection)

        Exit status: 0 success, 1 failure, 2 usage error.
        """

    /// `leadctl --version`: the package's version, which every service reports too.
    public static let version = "leadctl \(BuildInfo.version)"

    /// `leadctl topics create`.
    public static let topicsCreate = """
        Usage: leadctl topics create

        Creates every topic of the pipeline in the namespace (existing topics with the right
        partition count are kept) and prints each topic with its partition count. On a topic
        that exists, sets each configuration value the pipeline gives (retention, compaction,
        record size, min.insync.replicas) that the topic has otherwise, and prints each it set;
        names on stderr a topic whose replication factor is not PIPELINE_REPLICATION_FACTOR
        (changing that takes a partition reassignment). Run it with every release.

        \(connection)
        """

    /// `leadctl topics delete`.
    public static let topicsDelete = """
        Usage: leadctl topics delete --yes [--namespace NS]

        Deletes every topic of the namespace, for test and demo namespaces. Refuses to run
        without a namespace (from --namespace or PIPELINE_NAMESPACE), so the unprefixed
        production topics cannot be deleted by this command.

        \(connection)
        """

    /// `leadctl publish`.
    public static let publish = """
        Usage: leadctl publish --file PATH [--format jsonl|csv] [--publish-invalid]
               leadctl publish --synthetic N [--account A] [--offer O] [--search S]
                               [--mode full|scoring-only|enrich-only|no-op] [--seed S]

        Publishes lead.discovered records, keyed by lead id, to the input topic (leads.discovered;
        leads.discovered.priority for intent sources), in batches.

        --file PATH        JSON Lines (.jsonl, .ndjson, .json): one lead.discovered object per line;
                           "schema", "version" and "discoveredAt" may be left out (now is used).
                           CSV (.csv): a header row, then one lead per row. Columns:
                             lead_id,account_id,offer_id,search_id,source,name,linkedin_url,x_url,mode
                           (source defaults to csv-import, mode to full; optional columns
                           reenrich_types (e.g. "linkedin;x") and discovered_at (ISO-8601)).
                           "-" reads standard input.
        --format F         jsonl or csv, when the extension does not say.
        --publish-invalid  also send invalid lines (to exercise dead letters), as written but with
                           what a valid line is given when it leaves it out ("schema", "version",
                           "discoveredAt"; a CSV row as the JSON lead its columns describe), so
                           each dead letter names the line's own defect.
        --synthetic N      N plausible leads: a mix of LinkedIn-only, X-only and both, mixed sources.
        --account A        default acct-demo        --offer O   default offer-demo
        --search S         default search-synthetic-<seed>
        --mode M           default full             --seed S    default 1 (same seed and account, same leads)

        The file is read and sent as it goes, a megabyte at a time, so its size does not matter
        (a line is held whole, up to 16 MiB). Every lead is validated; invalid lines are reported
        with their line number and reason and not published (a JSON line over 16 MiB is not read).
        Exit status 1 when any line was invalid. A scoring-only lead without a poolProfile (a CSV
        row cannot carry one) is published with a warning: it runs in full (or is refused if its
        account allows no enrichment). A file that turns out unusable part-way (a CSV
        block that is not UTF-8, a row that never ends, a read error) stops the publish, after
        saying how many records went out before it.

        \(connection)
        """

    /// `leadctl account put`.
    public static let accountPut = """
        Usage: leadctl account put --file PATH

        Publishes an account configuration (account.config; billing state, outreach window,
        autopilot rule) to the accounts topic, keyed by account id. "schema", "version" and
        "updatedAt" may be left out. A field the configuration does not have (a misspelt
        one) is refused, named, as is a number outside its range (a minimum score 0 to 100,
        an hour, a weekday; the error names the range). Start from `leadctl account sample`.

        \(connection)
        """

    /// `leadctl account sample`.
    public static let accountSample = """
        Usage: leadctl account sample

        Prints a sample account configuration to edit and publish with `leadctl account put`.
        """

    /// `leadctl offer put`.
    public static let offerPut = """
        Usage: leadctl offer put --file PATH

        Publishes an offer configuration (offer.config; ideal customer profile, pain points,
        competitors, signal likelihood) to the offers topic, keyed by offer id. "schema",
        "version" and "updatedAt" may be left out. A field the configuration does not have (a
        misspelt one, at any depth: "icp.minimumEmployes") is refused, named, as is a head
        count below 0 (icp.minimumEmployees, icp.maximumEmployees). Exit status 1,
        publishing nothing, when the offer's account has no configuration (`leadctl account
        put` first); a warning when the offer moves from another account, whose leads naming it
        are refused from then on. Start from `leadctl offer sample`.

        \(connection)
        """

    /// `leadctl offer sample`.
    public static let offerSample = """
        Usage: leadctl offer sample

        Prints a sample offer configuration to edit and publish with `leadctl offer put`.
        """

    /// `leadctl search total`.
    public static let searchTotal = """
        Usage: leadctl search total --search S --account A --total N [--move-account]

        Declares that search S of account A produced N leads in total (search.total-declared,
        keyed by search id), so progress can report the search as completed. Progress takes a
        declared total's account as the search's: exit status 1, publishing nothing, when the
        search is counted under another account (its progress says which), unless
        --move-account moves it on purpose. A note when the search has no progress yet, whose
        account is then not checked.

        \(connection)
        """

    /// `leadctl reenrich`.
    public static let reEnrich = """
        Usage: leadctl reenrich LEAD_ID --types linkedin,x,activity [--requested-by WHO] [--request-id ID]

        Asks the coordinator to refresh the given parts of a lead (lead.reenrich.requested on
        lead.commands, which the coordinator reads ahead of new leads, keyed by lead id).
        --requested-by defaults to $USER. Whether the pipeline knows the lead is not checked
        (that reads its whole partition of lead.state, and a lead queued moments ago has no
        state yet): the coordinator dead-letters a re-enrich of a lead it does not know (a
        mistyped id), and `leadctl show LEAD_ID` shows whether it knows it.

        Each request carries a request id, a new UUID unless --request-id gives one (at most 200
        characters). The same request id for the same lead is one run and one charge, however
        often it is sent: to retry a request whose outcome you do not know, send it again with
        the id the first try printed.

        \(connection)
        """

    /// `leadctl lead override`.
    public static let leadOverride = """
        Usage: leadctl lead override LEAD_ID --state manual|disqualified --reason TEXT [--requested-by WHO]
               leadctl lead override LEAD_ID --clear [--reason TEXT] [--requested-by WHO]

        Publishes a lead.override to the compacted lead.overrides topic, keyed by lead id; the
        latest record per lead is in force and is the store (other systems may write it too).
          manual        scoring still runs and its scores update, but the buyer state stays
                        manual, with the reason "manual override: TEXT"; autopilot never
                        enrolls the lead.
          disqualified  the lead is not scored again (its scoring phase is skipped); enrichment
                        (reenrich) still runs; no autopilot enrollment, no lead-pool matches,
                        and it no longer counts in its company's account heat.
          --clear       ends the override: the next scoring sets the buyer state as usual; a
                        disqualified lead counts in its company's heat again at once.
        The coordinator applies it from the lead's next phase on; `leadctl show` prints the
        override in force at once. --requested-by defaults to $USER.

        \(connection)
        """

    /// `leadctl show`.
    public static let show = """
        Usage: leadctl show LEAD_ID [--json]

        Reads the lead's partition of the lead state topic up to its end and prints the latest
        state: status, run, mode, plan with phase states, profile summary, scores and history;
        what its pool entry left out when it was made to fit MAX_RECORD_BYTES, if anything; then
        the lead's override in force (lead.overrides), if any. --json prints the state record
        as JSON (without the override). Exit status 1 when the lead has no state: the coordinator
        writes a lead's first state once the lead has waited (queued) or run for
        COORDINATOR_STATE_WRITE_INTERVAL_SECONDS (5 s by default), or when its run ends if
        sooner; a lead waiting for its account's or offer's configuration has none.

        \(connection)
        """

    /// `leadctl pool tail`.
    public static let poolTail = """
        Usage: leadctl pool tail [--from-beginning] [--count N] [--timeout SECONDS] [--json]

        Follows the lead pool and prints one line per finished lead (or its JSON with --json);
        an entry made to fit MAX_RECORD_BYTES ends with what it left out, [without ...].
        Starts at the end unless --from-beginning; stops after N leads with --count, or after
        SECONDS with --timeout; otherwise runs until interrupted.

        \(connection)
        """

    /// `leadctl pool match`.
    public static let poolMatch = """
        Usage: leadctl pool match --offer O [--min-fit N] [--dry-run]

        Reads the lead pool whole and the offer O, and publishes every pool profile whose fit
        against O's ideal customer profile is at least N (default 60; the rule scorer's fit) as a
        lead of O's account: id <pool lead id>@O, source lead-pool, mode scoring-only, search
        lead-pool:O. One per person: pool leads sharing a LinkedIn or X profile are one person,
        and the one finished last is published; a person O has already (found for O, or matched
        and in the pool) is skipped. Running it again publishes only matches not in the pool yet,
        with the same ids, which the coordinator ignores. Prints one line per match published;
        --dry-run publishes nothing.

        \(connection)
        """

    /// `leadctl dead-letters list`.
    public static let deadLettersList = """
        Usage: leadctl dead-letters list [--json]

        Reads the dead letters topic to its end and prints, per record, its place in that topic
        (PARTITION@OFFSET, for `dead-letters replay`), where it came from
        (topic, partition, offset), the service, the time, the reason and the start of the
        original value, oldest first. --json prints each dead letter as one JSON line, its
        fields led by "deadLetterAt": its PARTITION@OFFSET in the dead letters topic, as read
        (each partition in order; sort by failedAt if needed): a line holds the whole letter,
        up to about a megabyte, and none is held to sort.

        \(connection)
        """

    /// `leadctl dead-letters replay`.
    public static let deadLettersReplay = """
        Usage: leadctl dead-letters replay PARTITION@OFFSET [--file PATH]
               leadctl dead-letters replay --all

        Re-publishes dead letters to the topic they came from, with their original key, so the
        pipeline reads them again. PARTITION@OFFSET is the dead letter's place in the dead letters
        topic, as `dead-letters list` prints it first on each line (a bare OFFSET works when only
        one partition has a dead letter there). --file PATH sends the file's bytes instead of the
        original value (a fixed record; "-" reads standard input). --all replays every stored dead
        letter once; a record that fails again becomes a new dead letter. A letter without its
        original value (too large to keep, or withheld) is replayed only with --file: --all
        names and skips such letters (and any it cannot read), replays the rest, and exits 1.
        --all sends the letters as it reads them, a few hundred at a time.

        \(connection)
        """

    /// `leadctl progress`.
    public static let progress = """
        Usage: leadctl progress [--search S] [--watch] [--json]

        Reads the progress topic (the latest snapshot per search) and prints, per search and per
        account, the state (running, completed, paused) and the counters: total, pending,
        completed, enriching, scoring, finalizing, billing paused, deferred, refused (leads
        dead-lettered at discovery, which never run) and already known (leads found earlier by
        another search, which run once, for that one): a search completes once each of its
        leads is completed, refused or already known.

        --search S  only that search (and its account's total over it)
        --watch     redraw a progress bar per search until every shown search is completed
                    (or Ctrl-C); with --json, one JSON document per line on each change
        --json      {"searches": [...], "accounts": [...]} for scripts

        \(connection)
        """

    /// `leadctl heat`.
    public static let heat = """
        Usage: leadctl heat [--account A] [--all] [--json]

        Reads the heat table (the compacted `account.heat`, each company's state as its
        aggregator last wrote it, a few seconds behind `account.signals`) and prints the signal
        each company last published, hottest first: account, company key and name, heat,
        category, trend, people and the strongest signal. A company whose heat is gone (its last
        signal counts fewer than two people) is left out, and counted on standard error, unless
        --all. --account keeps one account's companies; --json prints each of those signals as
        `account.signals` carries it, one per line.

        \(connection)
        """

    /// `leadctl lag`.
    public static let lag = """
        Usage: leadctl lag [--window SECONDS] [--interval SECONDS] [--json] [--max-lag N]
               leadctl lag --watch [--window SECONDS] [--interval SECONDS] [--json]

        Samples every consumer group of the namespace (coordinator, coordinator.progress,
        coordinator.account-progress, stage.<phase>, account-heat, profile-finder, web-enricher)
        every --interval seconds for --window seconds, then prints each group's status and total
        lag, and per partition its committed offset, high watermark, lag and status at the last
        sample. Status over the window:
          ok         no lag at the last sample, or offsets committed and the lag not growing
          lagging    the lag at the last sample is above the lag at the first
          stalled    lag at every sample and no committed offset moved (nobody consumes)
          unknown    lag at the only sample (--window 0), or the group's topics are missing
          untracked  the group commits no offsets (the progress trackers): no lag to report

        --window S    seconds to sample over before printing (default 10; 0: one sample, no trend)
        --interval S  seconds between samples (default 2)
        --watch       keep sampling and print after every sample, statuses over the last
                      window, until Ctrl-C (with --json, one JSON document per line); a
                      sample that fails is reported and the watch goes on
        --json        {"windowSeconds", "samples", "groups": [{"group", "service", "status",
                      "totalLag", "partitions": [...]}]} for scripts
        --max-lag N   exit status 1 when any group's total lag is above N (for alerts and CI);
                      leads.backlog is not counted: leads wait there by design in a burst

        \(connection)
        """

    /// `leadctl billing`.
    public static let billing = """
        Usage: leadctl billing pause --account A [--reason TEXT]
               leadctl billing resume --account A [--reason TEXT]

        Publishes an account.billing-event (source leadctl, a new event id) to the billing
        events topic, as the billing system does; the latest event per account is in force and
        the account's configuration is left alone. While paused, leads wait before paid phases
        (and, with autopilot on, a lead autopilot would enroll waits before finalizing again)
        (status billing paused); after a resume they continue from that phase within about a
        second. --reason defaults to "paused by an operator" / "resumed by an operator". Exit
        status 1 when the account has no configuration (publish one with `leadctl account put`).

        \(connection)
        """

    /// The usage of a command named as typed (`publish`, `account put`, `account`, ...), or nil:
    /// a command's own, or those of every command it is the first word of.
    public static func text(for command: String) -> String? {
        if command == "help" { return general }
        if let spec = commands.first(where: { $0.names.contains(command) }) { return spec.usage }
        let group = commands.filter { $0.names.contains { $0.split(separator: " ").first.map(String.init) == command } }
        return group.isEmpty ? nil : group.map(\.usage).joined(separator: "\n\n")
    }
}

/// One command of `leadctl`: the names it is typed and asked help for by, its usage, and its
/// forms as the general usage lists them. The forms are the one place its options are written:
/// each `--name VALUE` in them is an option the parser takes, each `--name` alone a flag, so the
/// general usage lists every option the command takes and no other.
public struct CommandSpec: Sendable {
    /// One line of the general usage: how the command is typed, and what it does (empty: said
    /// on the form below).
    public struct Form: Sendable {
        /// `pool tail [--from-beginning] [--count N] [--timeout S] [--json]`.
        public let synopsis: String
        /// `follow the lead pool`.
        public let summary: String

        init(_ synopsis: String, _ summary: String) {
            self.synopsis = synopsis
            self.summary = summary
        }

        /// The form in the general usage: the summary beside the synopsis, or below a long one.
        var line: String {
            let column = 39
            guard !summary.isEmpty else { return "  " + synopsis }
            guard synopsis.count < column - 1 else { return "  \(synopsis)\n" + String(repeating: " ", count: column + 2) + summary }
            return "  " + synopsis + String(repeating: " ", count: column - synopsis.count) + summary
        }
    }

    /// `pool tail`; `reenrich` and `re-enrich`: the first is the name, the others the same command.
    public let names: [String]
    /// The command's own usage text.
    public let usage: String
    /// Its lines in the general usage.
    public let forms: [Form]
    /// The options that take a value, without dashes.
    public let options: Set<String>
    /// The options without a value.
    public let flags: Set<String>

    /// A command of `usage` typed as its `forms` show (its names: their first words up to an
    /// argument or an option, each of `a|b` a name), or as one of `aliases`.
    init(usage: String, aliases: [String] = [], _ forms: (synopsis: String, summary: String)...) {
        var names: [String] = []
        for form in forms {
            var typed = [""]
            for word in form.synopsis.split(separator: " ") {
                guard word.first?.isLowercase == true, !word.contains("--") else { break }
                typed = typed.flatMap { name in word.split(separator: "|").map { name.isEmpty ? String($0) : "\(name) \($0)" } }
            }
            for name in typed where !names.contains(name) { names.append(name) }
        }
        self.names = names + aliases
        self.usage = usage
        self.forms = forms.map { Form($0.synopsis, $0.summary) }
        var options: Set<String> = []
        var flags: Set<String> = []
        for form in forms {
            let words = form.synopsis.split(separator: " ").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) }
            for (index, word) in words.enumerated() {
                // `P@O|--all`: an alternative may be an option too; a value follows the last one.
                for (position, part) in word.split(separator: "|").enumerated() where part.hasPrefix("--") {
                    let next = index + 1 < words.count ? words[index + 1] : nil
                    let isLast = position == word.split(separator: "|").count - 1
                    if isLast, let next, !next.hasPrefix("-") {
                        options.insert(String(part.dropFirst(2)))
                    } else {
                        flags.insert(String(part.dropFirst(2)))
                    }
                }
            }
        }
        self.options = options
        self.flags = flags
    }
}
