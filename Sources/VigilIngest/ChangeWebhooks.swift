// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// Change events from other systems' own formats: GitHub's `deployment_status` webhook and Kubernetes events
/// (`kubectl get events -w -o json`).
public enum ChangeWebhooks {
    /// GitHub webhook (`X-GitHub-Event` names the event; empty when the header is missing). `deployment_status` with state success, failure or
    /// error becomes a deploy of the repository's name (the environment and state in the description);
    /// other events and states give nothing (`ping` included).
    public static func github(event: String, body: [UInt8]) throws(IngestError) -> [ChangeEvent] {
        let document = try JSONParser.parse(body)
        guard case .object = document else { throw IngestError("GitHub webhook: expected a JSON object") }
        // Without the header (a hand-made request), a body with a deployment_status is one.
        guard event == "deployment_status" || (event.isEmpty && document["deployment_status"] != nil) else {
            return []
        }
        guard let status = document["deployment_status"], let deployment = document["deployment"] else {
            throw IngestError("GitHub deployment_status: missing deployment_status or deployment")
        }
        guard let state = status["state"]?.string else {
            throw IngestError("GitHub deployment_status: deployment_status.state is missing")
        }
        guard ["success", "failure", "error"].contains(state) else { return [] }
        guard let service = document["repository"]?["name"]?.string, !service.isEmpty else {
            throw IngestError("GitHub deployment_status: repository.name is missing")
        }
        let timeText = status["created_at"]?.string ?? status["updated_at"]?.string ?? deployment["created_at"]?.string
        guard let timeText, let time = TimestampParser.parse(Array(timeText.utf8).span) else {
            throw IngestError("GitHub deployment_status: deployment_status.created_at is not an RFC 3339 time")
        }
        let environment = deployment["environment"]?.string ?? status["environment"]?.string ?? "unknown"
        let sha = deployment["sha"]?.string.map { String($0.prefix(12)) }
        var description = "GitHub deployment to \(environment): \(state)"
        if let who = (status["creator"]?["login"] ?? deployment["creator"]?["login"])?.string {
            description += " by \(who)"
        }
        if let ref = deployment["ref"]?.string { description += " (ref \(ref))" }
        return [
            ChangeEvent(
                service: service,
                kind: .deploy,
                version: sha ?? deployment["ref"]?.string,
                time: time,
                description: description
            )
        ]
    }

    /// One Kubernetes `Event` object (or a watch envelope `{"type": …, "object": Event}`) as a change event
    /// when it says a workload changed: rollouts (ScalingReplicaSet), autoscaling (SuccessfulRescale), and
    /// restarts (OOMKilling, BackOff = CrashLoopBackOff, Killing, Evicted). Other events give `nil`.
    /// The service is the involved object's name without the ReplicaSet/pod hash suffixes.
    public static func kubernetes(_ object: JSONValue) -> ChangeEvent? {
        let event = object["object"].flatMap { $0["kind"]?.string == "Event" ? $0 : nil } ?? object
        guard event["kind"]?.string.map({ $0 == "Event" }) ?? true, let reason = event["reason"]?.string else {
            return nil
        }
        let kind: ChangeEvent.Kind
        switch reason {
        case "ScalingReplicaSet": kind = .deploy
        case "SuccessfulRescale": kind = .scale
        case "OOMKilling", "OOMKilled", "BackOff", "CrashLoopBackOff", "Evicted", "Killing": kind = .restart
        default: return nil
        }
        let involved = event["involvedObject"] ?? event["regarding"]
        guard let name = involved?["name"]?.string, !name.isEmpty else { return nil }
        let objectKind = involved?["kind"]?.string ?? ""
        let namespace = involved?["namespace"]?.string ?? event["metadata"]?["namespace"]?.string
        let timeText =
            event["lastTimestamp"]?.string ?? event["eventTime"]?.string ?? event["firstTimestamp"]?.string
            ?? event["metadata"]?["creationTimestamp"]?.string
        guard let timeText, let time = TimestampParser.parse(Array(timeText.utf8).span) else { return nil }
        let message = event["message"]?.string ?? ""
        var description = "Kubernetes \(reason) on \(objectKind)/\(name)"
        if let namespace { description += " in \(namespace)" }
        if !message.isEmpty { description += ": \(message.prefix(1000))" }
        return ChangeEvent(
            service: Self.workload(name, kind: objectKind),
            kind: kind,
            version: nil,
            time: time,
            description: description
        )
    }

    /// `checkout-7d9f8b6c5d-x2x7q` (pod) → `checkout`; `checkout-7d9f8b6c5d` (ReplicaSet) → `checkout`.
    static func workload(_ name: String, kind: String) -> String {
        var parts = name.split(separator: "-")
        func isHash(_ part: Substring, lengths: ClosedRange<Int>) -> Bool {
            lengths.contains(part.count) && part.allSatisfy { $0.isLowercase || $0.isNumber }
                && part.contains { $0.isNumber }
        }
        if kind == "Pod", parts.count > 2, parts.last!.count == 5 { parts.removeLast() }
        if kind == "Pod" || kind == "ReplicaSet", parts.count > 1, isHash(parts.last!, lengths: 5...10) {
            parts.removeLast()
        }
        return parts.isEmpty ? name : parts.joined(separator: "-")
    }
}

/// Cuts a byte stream of concatenated JSON values (`kubectl … -o json` pretty-prints one object after another)
/// into whole top-level objects, tracking depth outside strings. Bounded: an object over `maximumBytes` is an error.
public struct JSONObjectSplitter {
    public static let maximumBytes = 4 << 20
    var buffer: [UInt8] = []
    var depth = 0
    var inString = false
    var escaped = false
    var start: Int?
    var scanned = 0

    public init() {}

    /// Feeds bytes; returns the objects completed by them.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(IngestError) -> [[UInt8]] {
        self.buffer += bytes
        var objects: [[UInt8]] = []
        var index = self.scanned
        while index < self.buffer.count {
            let byte = self.buffer[index]
            if self.inString {
                if self.escaped {
                    self.escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    self.escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    self.inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                self.inString = true
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                if self.depth == 0 { self.start = index }
                self.depth += 1
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                self.depth -= 1
                if self.depth < 0 { throw IngestError("JSON stream: a closing bracket without an opening one") }
                if self.depth == 0, let start = self.start {
                    objects.append(Array(self.buffer[start...index]))
                    self.start = nil
                }
            }
            index += 1
        }
        // Keep only the unfinished object.
        if let start = self.start {
            self.buffer.removeFirst(start)
            self.start = 0
            self.scanned = self.buffer.count
            guard self.buffer.count <= Self.maximumBytes else {
                throw IngestError("JSON stream: an object exceeds \(Self.maximumBytes) bytes")
            }
        } else {
            self.buffer.removeAll(keepingCapacity: true)
            self.scanned = 0
        }
        return objects
    }
}
