// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A click on a button of a Slack message, as Slack's interactivity request delivers it: a form body whose
/// `payload` field holds a `block_actions` JSON document, signed with the app's signing secret.
public struct SlackInteraction: Sendable, Equatable {
    /// The Slack user ID of the person who clicked (`U…`): the one thing Slack vouches for.
    public var userID: String
    /// Their user name, or the ID when the payload names nobody.
    public var userName: String
    /// The clicked button's `action_id`.
    public var actionID: String
    /// The clicked button's `value`.
    public var value: String

    public init(userID: String, userName: String, actionID: String, value: String) {
        self.userID = userID
        self.userName = userName
        self.actionID = actionID
        self.value = value
    }

    /// Requests older (or newer) than this many seconds are refused: a captured request cannot be replayed later.
    public static let maximumAgeSeconds = 300.0

    /// Why a request is not Slack's.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        /// `X-Slack-Request-Timestamp` or `X-Slack-Signature` is missing or not in Slack's form.
        case unsigned
        /// The timestamp is more than ``maximumAgeSeconds`` from now.
        case stale(seconds: Double)
        /// The signature is not the HMAC of this body under the signing secret.
        case forged

        public var description: String {
            switch self {
            case .unsigned:
                "X-Slack-Request-Timestamp (Unix seconds) and X-Slack-Signature (v0=<hex>) are required"
            case .stale(let seconds):
                "the request was signed \(Int(seconds.rounded())) s from now; more than \(Int(SlackInteraction.maximumAgeSeconds)) s is refused"
            case .forged: "X-Slack-Signature is not the HMAC-SHA256 of this request under the signing secret"
            }
        }
    }

    /// Checks Slack's signature: `v0=` and the hex HMAC-SHA256 of `v0:<timestamp>:<body>` under `secret`,
    /// compared in constant time, and a timestamp within ``maximumAgeSeconds`` of `now` (Unix seconds).
    public static func verify(
        body: [UInt8],
        timestamp: String?,
        signature: String?,
        secret: String,
        now: Double
    ) throws(Refusal) {
        guard let timestamp, let signature, signature.hasPrefix("v0="), timestamp.utf8.count <= 12,
            let seconds = Int64(timestamp), seconds > 0
        else { throw .unsigned }
        let age = now - Double(seconds)
        guard abs(age) <= Self.maximumAgeSeconds else { throw .stale(seconds: age) }
        let signed = Array("v0:\(timestamp):".utf8) + body
        let expected = "v0=" + OTLP.hex(SHA256.hmac(key: Array(secret.utf8), signed))
        guard SHA256.constantTimeEqual(Array(signature.lowercased().utf8), Array(expected.utf8)) else {
            throw .forged
        }
    }

    /// The click in a verified request body (`application/x-www-form-urlencoded`, `payload=<JSON>`): its type
    /// must be `block_actions` with one action that has an `action_id`, and the user must have an ID.
    public static func parse(form body: [UInt8]) throws(IngestError) -> SlackInteraction {
        var payload: [UInt8]?
        for field in body.split(separator: UInt8(ascii: "&")) {
            let parts = field.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, Self.formDecode(parts[0]) == Array("payload".utf8) {
                payload = Self.formDecode(parts[1])
            }
        }
        guard let payload else {
            throw IngestError("Slack interaction: the form body has no payload field (send payload=<JSON>)")
        }
        let document = try JSONParser.parse(payload)
        guard let type = document["type"]?.string else {
            throw IngestError("Slack interaction: the payload has no type")
        }
        guard type == "block_actions" else {
            throw IngestError(
                "Slack interaction: only block_actions (a button click) is handled, not \(type.prefix(40))"
            )
        }
        guard let userID = document["user"]?["id"]?.string, !userID.isEmpty else {
            throw IngestError("Slack interaction: the payload names no user.id")
        }
        guard let action = document["actions"]?.array?.first, let actionID = action["action_id"]?.string else {
            throw IngestError("Slack interaction: the payload holds no action with an action_id")
        }
        let name = document["user"]?["username"]?.string ?? document["user"]?["name"]?.string
        return SlackInteraction(
            userID: userID,
            userName: name.flatMap { $0.isEmpty ? nil : $0 } ?? userID,
            actionID: actionID,
            value: action["value"]?.string ?? ""
        )
    }

    /// A form field decoded: `+` is a space and `%XX` a byte; a malformed escape stays as it is.
    static func formDecode(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.endIndex,
                let high = OTLP.nibble(bytes[index + 1]), let low = OTLP.nibble(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return out
    }
}
