// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilServer
import VigilTestSupport

/// The server answers as `docs/openapi.json` says: every documented operation is called, its status is a
/// documented one, and JSON bodies are checked against the documented schemas.
@Suite struct OpenAPITests {
    let spec: [String: Any]

    init() throws {
        let url = Vigil.packageRoot.appendingPathComponent("docs/openapi.json")
        self.spec = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
    }

    @Test func serverMatchesTheDocument() throws {
        // A declared call, so the topology shows an edge without spans' figures.
        let dependencies = Scratch.path("vigil-deps", suffix: "json")
        try Data(#"{"calls": [["checkout", "payment"]]}"#.utf8).write(to: dependencies)
        let server = try ServerProcess(arguments: ["--host-sample-seconds", "1", "--dependencies", dependencies.path])
        try server.start()
        defer { server.stop() }
        // Wait for host metrics so the series endpoints have something to describe.
        let deadline = Date().addingTimeInterval(15)
        var series: [[String: Any]] = []
        while series.isEmpty && Date() < deadline {
            series = try server.json("/api/v1/series") as? [[String: Any]] ?? []
            if series.isEmpty { Thread.sleep(forTimeInterval: 0.2) }
        }
        let firstSeries = try #require(series.first?["series"] as? String)
        let paths = try #require(self.spec["paths"] as? [String: [String: Any]])
        #expect(paths.count >= 9)
        var checked = 0
        for (path, operations) in paths.sorted(by: { $0.key < $1.key }) {
            for (method, operation) in operations {
                let operation = operation as? [String: Any] ?? [:]
                let responses = operation["responses"] as? [String: Any] ?? [:]
                if method == "get" {
                    var target = path
                    if path == "/api/v1/series" {
                        // Both shapes: the list, and one series' samples.
                        try self.check(server, "GET", path, nil, nil, responses: responses, expect: "200")
                        let encoded = firstSeries.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                        target = path + "?series=" + encoded
                    }
                    if path.contains("{id}") {
                        // An unknown ID: the documented 404 (a real incident is checked in IncidentTests).
                        let unknown = path.replacingOccurrences(of: "{id}", with: "no-such-incident")
                        try self.check(server, "GET", unknown, nil, nil, responses: responses, expect: "404")
                        checked += 1
                        continue
                    }
                    try self.check(server, "GET", target, nil, nil, responses: responses, expect: "200")
                    if (operation["parameters"] as? [Any])?.isEmpty == false && path.hasPrefix("/api/") {
                        try self.check(server, "GET", path + "?limit=0", nil, nil, responses: responses, expect: "400")
                    }
                } else {
                    let content = (operation["requestBody"] as? [String: Any])?["content"] as? [String: Any] ?? [:]
                    if content["application/x-www-form-urlencoded"] != nil {
                        // Slack's button clicks: this server has no runbooks (a signed click is checked in
                        // RemediateTests).
                        try self.check(
                            server,
                            "POST",
                            path,
                            Array("payload=%7B%7D".utf8),
                            "application/x-www-form-urlencoded",
                            responses: responses,
                            expect: "404"
                        )
                        checked += 1
                        continue
                    }
                    guard let json = content["application/json"] as? [String: Any] else {
                        // A binary-only endpoint (remote_write): garbage is a 400 with a reason.
                        try self.check(
                            server,
                            "POST",
                            path,
                            [0xFF, 0xFF, 0x01],
                            "application/x-protobuf",
                            responses: responses,
                            expect: "400"
                        )
                        checked += 1
                        continue
                    }
                    let example = try JSONSerialization.data(withJSONObject: try #require(json["example"]))
                    if path.contains("{id}") {
                        // An unknown ID: the documented 404 (a real run is approved in RemediateTests).
                        let unknown = path.replacingOccurrences(of: "{id}", with: "no-such-run")
                        try self.check(
                            server,
                            "POST",
                            unknown,
                            [UInt8](example),
                            "application/json",
                            responses: responses,
                            expect: "404"
                        )
                        checked += 1
                        continue
                    }
                    let success = responses.keys.first { $0.hasPrefix("2") } ?? "2xx"
                    try self.check(
                        server,
                        "POST",
                        path,
                        [UInt8](example),
                        "application/json",
                        responses: responses,
                        expect: success
                    )
                    try self.check(
                        server,
                        "POST",
                        path,
                        Array("{".utf8),
                        "application/json",
                        responses: responses,
                        expect: "400"
                    )
                    try self.check(server, "POST", path, [1, 2], "text/csv", responses: responses, expect: "415")
                }
                checked += 1
            }
        }
        #expect(checked == 31)
    }

    func check(
        _ server: ServerProcess,
        _ method: String,
        _ path: String,
        _ body: [UInt8]?,
        _ contentType: String?,
        responses: [String: Any],
        expect status: String
    ) throws {
        let response = try server.client().request(
            method,
            path,
            headers: contentType.map { [("Content-Type", $0)] } ?? [],
            body: body ?? []
        )
        #expect(String(response.status) == status, "\(method) \(path): \(response.status) \(response.text.prefix(200))")
        guard var documented = responses[String(response.status)] as? [String: Any] else {
            Issue.record("\(method) \(path) answered \(response.status), which is not documented")
            return
        }
        if let reference = documented["$ref"] as? String { documented = self.resolve(reference) }
        guard let content = documented["content"] as? [String: Any] else {
            #expect(response.body.isEmpty, "\(method) \(path): body where none is documented")
            return
        }
        let type = response.headers["content-type"]?.split(separator: ";").first.map(String.init) ?? ""
        guard let media = content[type] as? [String: Any] else {
            Issue.record("\(method) \(path): content type \(type) is not documented")
            return
        }
        guard type == "application/json", let schema = media["schema"] as? [String: Any] else { return }
        let value = try JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed])
        let problems = self.validate(value, schema, at: "\(method) \(path)")
        #expect(problems.isEmpty, "\(problems)")
    }

    func resolve(_ reference: String) -> [String: Any] {
        var node: Any = self.spec
        for part in reference.dropFirst(2).split(separator: "/") {
            node = (node as? [String: Any])?[String(part)] ?? [:]
        }
        return node as? [String: Any] ?? [:]
    }

    /// A small JSON Schema check: $ref, type, required, properties, items, enum, oneOf, minItems, maxItems.
    func validate(_ value: Any, _ schema: [String: Any], at place: String) -> [String] {
        if let reference = schema["$ref"] as? String { return self.validate(value, self.resolve(reference), at: place) }
        if let choices = schema["oneOf"] as? [[String: Any]] {
            return choices.contains { self.validate(value, $0, at: place).isEmpty }
                ? [] : ["\(place): matches no oneOf"]
        }
        var problems: [String] = []
        switch schema["type"] as? String {
        case "object":
            guard let object = value as? [String: Any] else { return ["\(place): not an object"] }
            for name in schema["required"] as? [String] ?? [] where object[name] == nil {
                problems.append("\(place): missing \(name)")
            }
            for (name, property) in schema["properties"] as? [String: [String: Any]] ?? [:] {
                if let child = object[name], !(child is NSNull) {
                    problems += self.validate(child, property, at: "\(place).\(name)")
                }
            }
        case "array":
            guard let array = value as? [Any] else { return ["\(place): not an array"] }
            if let minimum = schema["minItems"] as? Int, array.count < minimum {
                problems.append("\(place): too short")
            }
            if let maximum = schema["maxItems"] as? Int, array.count > maximum { problems.append("\(place): too long") }
            if let items = schema["items"] as? [String: Any] {
                for (index, element) in array.enumerated() {
                    problems += self.validate(element, items, at: "\(place)[\(index)]")
                }
            }
        case "string":
            if !(value is String) { problems.append("\(place): not a string") }
        case "integer":
            // (Foundation on Linux bridges 0 and 1 to Bool as well, so Bool-ness cannot be told apart here.)
            if (value as? NSNumber).map({ $0.doubleValue != $0.doubleValue.rounded() }) ?? true {
                problems.append("\(place): not an integer")
            }
        case "number":
            if !(value is NSNumber) { problems.append("\(place): not a number") }
        case "boolean":
            if !(value is Bool) { problems.append("\(place): not a boolean") }
        default:
            break
        }
        if let options = schema["enum"] as? [String], let text = value as? String, !options.contains(text) {
            problems.append("\(place): \(text) not in \(options)")
        }
        return problems
    }
}
