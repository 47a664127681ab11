// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// Decodes the generic change-event webhook (`POST /api/v1/changes`): one object or an array of them,
/// `{"service": "checkout", "kind": "deploy", "version": "v2.4.1", "time": "2026-11-23T14:31:45Z",
/// "description": "rollout by CI run 812"}`. `kind` is deploy, config, flag, scale or restart; `time` is RFC 3339 or
/// Unix seconds and defaults to `now`.
public enum ChangeEvents {
    /// The most events one request may carry.
    public static let maximumEvents = 10_000

    /// Decodes a body.
    public static func decode(_ body: [UInt8], now: Timestamp) throws(IngestError) -> [ChangeEvent] {
        let document = try JSONParser.parse(body)
        let items: [JSONValue]
        switch document {
        case .array(let elements): items = elements
        case .object: items = [document]
        default: throw IngestError("change events: expected an object or an array of objects")
        }
        guard items.count <= maximumEvents else {
            throw IngestError("change events: \(items.count) events in one request; the limit is \(maximumEvents)")
        }
        var events: [ChangeEvent] = []
        for (index, item) in items.enumerated() {
            let place = items.count == 1 ? "" : "[\(index)]"
            guard case .object = item else { throw IngestError("change events\(place): expected an object") }
            guard let service = item["service"]?.string, !service.isEmpty, service.utf8.count <= 256 else {
                throw IngestError("change events\(place): \"service\" must be a non-empty string of at most 256 bytes")
            }
            guard let kindText = item["kind"]?.string, let kind = ChangeEvent.Kind(rawValue: kindText) else {
                throw IngestError(
                    "change events\(place): \"kind\" must be one of "
                        + ChangeEvent.Kind.allCases.map(\.rawValue).joined(separator: ", ")
                )
            }
            var time = now
            switch item["time"] {
            case nil, .null?: break
            case .number(let text)?:
                guard let seconds = Double(text), seconds.isFinite, seconds >= 0 else {
                    throw IngestError("change events\(place): \"time\" must be Unix seconds or RFC 3339")
                }
                time = Timestamp(seconds: seconds)
            case .string(let text)?:
                let bytes = Array(text.utf8)
                guard let parsed = TimestampParser.parse(bytes.span) else {
                    throw IngestError("change events\(place): \"time\" \"\(text.prefix(40))\" is not RFC 3339")
                }
                time = parsed
            default:
                throw IngestError("change events\(place): \"time\" must be Unix seconds or RFC 3339")
            }
            let description = item["description"]?.string.map { String($0.prefix(4096)) }
            let version = item["version"]?.string.map { String($0.prefix(256)) }
            events.append(
                ChangeEvent(service: service, kind: kind, version: version, time: time, description: description)
            )
        }
        return events
    }
}
