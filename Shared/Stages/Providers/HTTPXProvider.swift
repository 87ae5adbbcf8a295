import Foundation
import JSONCodec
import LeadModel
import LeadRules

/// X API v2 over HTTP (app bearer token): profiles by username and a user's recent posts.
///
/// - Profile: `GET /2/users/by/username/{username}?user.fields=…` (see ``userFields``). A 404, or
///   a 200 whose `errors` say the user is not found or suspended, is ``ProviderError/notFound``
///   (a permanent miss that costs nothing).
/// - Posts: `GET /2/users/{id}/tweets` with `start_time`, `max_results` 100,
///   `exclude=retweets,replies`, following `meta.next_token` as `pagination_token` for at most
///   ``maxPages`` pages. Accounts mentioned in the posts become the interaction orbit (names and
///   follower counts from `includes.users`).
/// - The username must be a valid X handle (checked with ``ProfileURL/x(_:)``); anything else is
///   a permanent failure without a request.
/// - Errors, rate limiting and the allow-listed host: see ``ProviderHTTPClient``. A reply that is
///   not the documented JSON is a transient failure.
public struct HTTPXProvider: XProvider {
    /// The `user.fields` asked for; `entities` carries the expanded form of the profile link.
    public static let userFields = "description,profile_image_url,verified,public_metrics,receives_your_dm,location,url,protected,entities"
    /// Pages of posts fetched at most per lead (100 posts each).
    public static let maxPages = 3

    /// The HTTP client (its host, key and rate limiter).
    public let client: ProviderHTTPClient

    /// A provider calling through `client`.
    public init(client: ProviderHTTPClient) { self.client = client }

    /// See ``XProvider/fetchProfile(username:lead:attempt:)``; `lead` is not used.
    public func fetchProfile(username: String, lead: LeadIdentity?, attempt: Int) async throws(ProviderError) -> XProfile {
        let username = try Self.validated(username)
        let reply = try await client.send(
            path: ["2", "users", "by", "username", username], query: [URLQueryItem(name: "user.fields", value: Self.userFields)])
        let decoded: UserReply = try client.decode(UserReply.self, reply)
        guard let user = decoded.data else {
            if decoded.errors?.contains(where: \.meansUserGone) == true { throw .notFound }
            throw .transient("x: reply without user data")
        }
        return XProfile(
            userID: user.id, name: user.name ?? username, username: user.username ?? username, bio: user.description ?? "",
            followersCount: user.public_metrics?.followers_count ?? 0, followingCount: user.public_metrics?.following_count ?? 0,
            isVerified: user.verified ?? false, profileImageURL: user.profile_image_url, canDM: user.receives_your_dm ?? false,
            isProtected: user.protected ?? false, location: user.location.flatMap(Self.nonEmpty),
            url: user.expandedURL.flatMap(Self.nonEmpty))
    }

    /// The most digits of an X user id: a 64-bit number.
    static let maxUserIDDigits = 20

    /// The user's posts since `since` (newest first as X returns them) and the accounts they
    /// mention, for at most ``maxPages`` pages.
    public func fetchRecentPosts(userID: String, username: String, since: Date) async throws(ProviderError) -> RawActivity {
        guard (1...Self.maxUserIDDigits).contains(userID.utf8.count), userID.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            // Quoted in part: the id comes from X's reply, and the reason goes into the lead's history.
            let length = userID.unicodeScalars.count
            let shown = length > 40 ? "\(userID.prefix(scalars: 40))… (\(length) scalars)" : userID
            throw .permanent("x: \"\(shown)\" is not a user id")
        }
        var posts: [Post] = []
        var mentions: [String: (user: TweetsReply.User?, username: String, dates: [Date])] = [:]
        var token: String?
        for _ in 0..<Self.maxPages {
            var query = [
                URLQueryItem(name: "max_results", value: "100"),
                URLQueryItem(name: "start_time", value: Self.xDate(since)),
                URLQueryItem(name: "exclude", value: "retweets,replies"),
                URLQueryItem(name: "tweet.fields", value: "created_at,public_metrics,entities"),
                URLQueryItem(name: "expansions", value: "entities.mentions.username"),
                URLQueryItem(name: "user.fields", value: "name,username,public_metrics,verified_type"),
            ]
            if let token { query.append(URLQueryItem(name: "pagination_token", value: token)) }
            let reply = try await client.send(path: ["2", "users", userID, "tweets"], query: query)
            let page: TweetsReply = try client.decode(TweetsReply.self, reply)
            if page.data == nil, page.errors?.contains(where: \.meansUserGone) == true { throw .notFound }
            let users = Dictionary((page.includes?.users ?? []).map { ($0.id, $0) }) { first, _ in first }
            for tweet in page.data ?? [] {
                guard let created = tweet.created_at.flatMap(ISO8601.parse) else { continue }
                let metrics = tweet.public_metrics
                posts.append(
                    Post(
                        id: tweet.id, platform: .x, date: created, text: tweet.text, likes: metrics?.like_count ?? 0,
                        replies: metrics?.reply_count ?? 0, reposts: (metrics?.retweet_count ?? 0).addingSaturated(metrics?.quote_count ?? 0),
                        url: "https://x.com/\(username)/status/\(tweet.id)"))
                for mention in tweet.entities?.mentions ?? [] where mention.username.lowercased() != username.lowercased() {
                    let key = mention.username.lowercased()
                    var entry = mentions[key] ?? (mention.id.flatMap { users[$0] }, mention.username, [])
                    entry.dates.append(created)
                    mentions[key] = entry
                }
            }
            guard let next = page.meta?.next_token, !next.isEmpty else { break }
            token = next
        }
        let interactions = mentions.values.compactMap { entry -> Interaction? in
            guard let first = entry.dates.min(), let last = entry.dates.max() else { return nil }
            return Interaction(
                platform: .x, handle: entry.username, name: entry.user?.name ?? entry.username,
                isOrganization: ["business", "government"].contains(entry.user?.verified_type ?? ""),
                followers: entry.user?.public_metrics?.followers_count ?? 0, count: entry.dates.count, firstSeen: first, lastSeen: last)
        }
        return RawActivity(posts: posts, interactions: interactions)
    }

    /// The text, or nil when it is empty or only spaces (X sends `""` for an unset field).
    static func nonEmpty(_ text: String) -> String? {
        text.trimmingCharacters(in: .whitespaces).isEmpty ? nil : text
    }

    /// The handle when it is a valid X username; else a permanent failure.
    static func validated(_ username: String) throws(ProviderError) -> String {
        guard case .success(let url) = ProfileURL.x("https://x.com/\(username)"), url.handle == username else {
            throw .permanent("x: \"\(username)\" is not a valid X username")
        }
        return url.handle
    }

    /// X wants RFC 3339 without fractional seconds: `2025-01-31T12:00:00Z`.
    static func xDate(_ date: Date) -> String {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)).formatted(.iso8601)
    }

    // MARK: - Reply shapes (X API v2)

    struct PublicMetrics: Decodable {
        var followers_count: Int?
        var following_count: Int?
        var tweet_count: Int?
        var listed_count: Int?
    }

    struct APIError: Decodable {
        var title: String?
        var type: String?
        var detail: String?

        /// Not found or suspended/deleted: a permanent miss.
        var meansUserGone: Bool {
            let text = [title, type, detail].compactMap { $0?.lowercased() }.joined(separator: " ")
            return text.contains("not found") || text.contains("resource-not-found") || text.contains("suspended")
        }
    }

    struct UserReply: Decodable {
        struct User: Decodable {
            var id: String
            var name: String?
            var username: String?
            var description: String?
            var profile_image_url: String?
            var verified: Bool?
            var protected: Bool?
            var receives_your_dm: Bool?
            var location: String?
            var url: String?
            var public_metrics: PublicMetrics?
            var entities: Entities?

            /// `entities.url.urls[].expanded_url` of the profile link.
            struct Entities: Decodable {
                struct Links: Decodable {
                    struct Link: Decodable {
                        var url: String?
                        var expanded_url: String?
                    }
                    var urls: [Link]?
                }
                var url: Links?
            }

            /// The profile link as the user typed it (X's `url` field is a t.co short link; its
            /// expansion is in `entities`), else the short link.
            var expandedURL: String? {
                let links = entities?.url?.urls ?? []
                let expanded = links.first { $0.url == url } ?? links.first
                return expanded?.expanded_url ?? url
            }
        }
        var data: User?
        var errors: [APIError]?
    }

    struct TweetsReply: Decodable {
        struct Tweet: Decodable {
            struct Metrics: Decodable {
                var retweet_count: Int?
                var reply_count: Int?
                var like_count: Int?
                var quote_count: Int?
            }
            struct Entities: Decodable {
                struct Mention: Decodable {
                    var username: String
                    var id: String?
                }
                var mentions: [Mention]?
            }
            var id: String
            var text: String
            var created_at: String?
            var public_metrics: Metrics?
            var entities: Entities?
        }
        struct User: Decodable {
            var id: String
            var name: String?
            var username: String?
            var verified_type: String?
            var public_metrics: PublicMetrics?
        }
        struct Includes: Decodable {
            var users: [User]?
        }
        struct Meta: Decodable {
            var result_count: Int?
            var next_token: String?
        }
        var data: [Tweet]?
        var includes: Includes?
        var meta: Meta?
        var errors: [APIError]?
    }
}

/// Activity over HTTP: the lead's recent X posts and the accounts they mention.
///
/// LinkedIn posts are not fetched (the person-profile API has no posts endpoint in the shape
/// this project speaks); a lead with only a LinkedIn handle fails permanently with that reason,
/// which the activity stage records as a non-retriable activity outcome, and scoring goes on.
/// Two X calls per lead at least (user lookup for the id, then posts), both rate limited.
public struct HTTPActivityProvider: ActivityProvider {
    /// The X provider used for the lookup and the posts.
    public let x: HTTPXProvider

    /// A provider reading X through `x`.
    public init(x: HTTPXProvider) { self.x = x }

    /// See ``ActivityProvider/fetchActivity(_:attempt:)``.
    public func fetchActivity(_ query: ActivityQuery, attempt: Int) async throws(ProviderError) -> RawActivity {
        guard let username = query.xUsername else {
            throw .permanent("activity over HTTP reads X posts only; the lead has no X username")
        }
        let profile = try await x.fetchProfile(username: username, attempt: attempt)
        // Protected accounts' posts are not readable with an app token.
        if profile.isProtected { return RawActivity(posts: [], interactions: []) }
        return try await x.fetchRecentPosts(userID: profile.userID, username: profile.username, since: query.since)
    }
}
