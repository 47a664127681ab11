// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// OTLP/JSON: the protobuf messages with lowerCamelCase keys, 64-bit integers as strings (numbers accepted),
/// enums as integers, trace and span IDs as hex; unknown keys are ignored.
extension OTLP {
    public static func decodeLogs(json body: [UInt8], now: Timestamp) throws(IngestError) -> [LogBatch] {
        try Self.context(.logs) { () throws(IngestError) in
            let document = try Self.document(body, key: "resourceLogs")
            var result: [LogBatch] = []
            var batches: [String: Int] = [:]
            for (r, resourceLogs) in document.enumerated() {
                let resource = try Self.resource(json: resourceLogs["resource"])
                let stream = StreamKey(service: resource.serviceName, source: "otlp")
                let index =
                    batches[stream.service]
                    ?? {
                        result.append(LogBatch(stream: stream, entries: []))
                        batches[stream.service] = result.count - 1
                        return result.count - 1
                    }()
                for (s, scope) in try Self.array(resourceLogs["scopeLogs"], "resourceLogs[\(r)].scopeLogs").enumerated()
                {
                    let path = "resourceLogs[\(r)].scopeLogs[\(s)].logRecords"
                    for (l, record) in try Self.array(scope["logRecords"], path).enumerated() {
                        let time = try Self.unsigned(record["timeUnixNano"], "\(path)[\(l)].timeUnixNano")
                        let observed = try Self.unsigned(
                            record["observedTimeUnixNano"],
                            "\(path)[\(l)].observedTimeUnixNano"
                        )
                        let nanoseconds = time != 0 ? time : observed
                        let body =
                            try record["body"].map { value throws(IngestError) in
                                try Self.anyValueText(json: value, depth: 0)
                            } ?? ""
                        result[index].entries.append(
                            LogEntry(
                                time: nanoseconds != 0
                                    ? Timestamp(nanoseconds: Int64(truncatingIfNeeded: nanoseconds)) : now,
                                line: Self.line(
                                    severityText: record["severityText"]?.string ?? "",
                                    severityNumber: Int(
                                        try Self.unsigned(record["severityNumber"], "\(path)[\(l)].severityNumber")
                                    ),
                                    body: body
                                )
                            )
                        )
                    }
                }
            }
            return result.filter { !$0.entries.isEmpty }
        }
    }

    public static func decodeMetrics(json body: [UInt8]) throws(IngestError) -> [MetricPoint] {
        try Self.context(.metrics) { () throws(IngestError) in
            let document = try Self.document(body, key: "resourceMetrics")
            var points: [MetricPoint] = []
            for (r, resourceMetrics) in document.enumerated() {
                let labels = try Self.resource(json: resourceMetrics["resource"]).labels
                let scopes = try Self.array(resourceMetrics["scopeMetrics"], "resourceMetrics[\(r)].scopeMetrics")
                for (s, scope) in scopes.enumerated() {
                    let path = "resourceMetrics[\(r)].scopeMetrics[\(s)].metrics"
                    for (m, metric) in try Self.array(scope["metrics"], path).enumerated() {
                        guard let raw = metric["name"]?.string, !raw.isEmpty else {
                            throw IngestError("\(path)[\(m)] has no name")
                        }
                        let name = Self.metricName(raw)
                        for kind in ["gauge", "sum"] {
                            guard let data = metric[kind] else { continue }
                            let series = kind == "sum" && Self.isCounter(sum: data) ? Self.counterName(name) : name
                            for (p, point) in try Self.array(data["dataPoints"], "\(path)[\(m)].\(kind).dataPoints")
                                .enumerated()
                            {
                                let at = "\(path)[\(m)].\(kind).dataPoints[\(p)]"
                                let value: Double
                                if let double = point["asDouble"] {
                                    guard let number = double.double else {
                                        throw IngestError("\(at).asDouble is not a number")
                                    }
                                    value = number
                                } else if let int = point["asInt"] {
                                    guard let number = int.int64 else {
                                        throw IngestError("\(at).asInt is not an integer")
                                    }
                                    value = Double(number)
                                } else {
                                    continue
                                }
                                points.append(
                                    MetricPoint(
                                        series: SeriesKey(
                                            name: series,
                                            labels: labels + (try Self.labels(point["attributes"], "\(at).attributes"))
                                        ),
                                        time: Timestamp(
                                            nanoseconds: Int64(
                                                truncatingIfNeeded: try Self.unsigned(
                                                    point["timeUnixNano"],
                                                    "\(at).timeUnixNano"
                                                )
                                            )
                                        ),
                                        value: value
                                    )
                                )
                            }
                        }
                        for kind in ["histogram", "exponentialHistogram", "summary"] {
                            guard let data = metric[kind] else { continue }
                            for (p, point) in try Self.array(data["dataPoints"], "\(path)[\(m)].\(kind).dataPoints")
                                .enumerated()
                            {
                                let at = "\(path)[\(m)].\(kind).dataPoints[\(p)]"
                                let all = labels + (try Self.labels(point["attributes"], "\(at).attributes"))
                                let time = Timestamp(
                                    nanoseconds: Int64(
                                        truncatingIfNeeded: try Self.unsigned(
                                            point["timeUnixNano"],
                                            "\(at).timeUnixNano"
                                        )
                                    )
                                )
                                let count = try Self.unsigned(point["count"], "\(at).count")
                                points.append(
                                    MetricPoint(
                                        series: SeriesKey(name: name + "_count", labels: all),
                                        time: time,
                                        value: Double(count)
                                    )
                                )
                                if let sum = point["sum"]?.double {
                                    points.append(
                                        MetricPoint(
                                            series: SeriesKey(name: name + "_sum", labels: all),
                                            time: time,
                                            value: sum
                                        )
                                    )
                                }
                                for quantile in point["quantileValues"]?.array ?? [] {
                                    // proto3 leaves a zero quantile out.
                                    let q = quantile["quantile"]?.double ?? 0
                                    guard let value = quantile["value"]?.double else { continue }
                                    points.append(
                                        MetricPoint(
                                            series: SeriesKey(name: name, labels: all + [.init("quantile", "\(q)")]),
                                            time: time,
                                            value: value
                                        )
                                    )
                                }
                            }
                        }
                    }
                }
            }
            return points
        }
    }

    public static func decodeTraces(json body: [UInt8]) throws(IngestError) -> [TraceSpan] {
        try Self.context(.traces) { () throws(IngestError) in
            let document = try Self.document(body, key: "resourceSpans")
            var spans: [TraceSpan] = []
            for (r, resourceSpans) in document.enumerated() {
                let service = try Self.resource(json: resourceSpans["resource"]).serviceName
                for (s, scope) in try Self.array(resourceSpans["scopeSpans"], "resourceSpans[\(r)].scopeSpans")
                    .enumerated()
                {
                    let path = "resourceSpans[\(r)].scopeSpans[\(s)].spans"
                    for (i, item) in try Self.array(scope["spans"], path).enumerated() {
                        let at = "\(path)[\(i)]"
                        guard let trace = item["traceId"]?.string, let traceBytes = Self.unhex(trace),
                            traceBytes.count == 16
                        else {
                            throw IngestError("\(at).traceId must be 32 hex digits")
                        }
                        guard let id = item["spanId"]?.string, let idBytes = Self.unhex(id), idBytes.count == 8 else {
                            throw IngestError("\(at).spanId must be 16 hex digits")
                        }
                        let parentText = item["parentSpanId"]?.string ?? ""
                        guard let parentBytes = Self.unhex(parentText), parentBytes.isEmpty || parentBytes.count == 8
                        else {
                            throw IngestError("\(at).parentSpanId must be empty or 16 hex digits")
                        }
                        var peers = PeerAttributes()
                        for label in try Self.labels(item["attributes"], "\(at).attributes") {
                            peers.take(label.name, label.value)
                        }
                        let kind = try Self.unsigned(item["kind"], "\(at).kind")
                        spans.append(
                            TraceSpan(
                                traceID: try Self.traceID(traceBytes[...]),
                                spanID: try Self.spanID(idBytes[...], field: "spanId"),
                                parentSpanID: try Self.spanID(parentBytes[...], field: "parentSpanId"),
                                service: service,
                                name: item["name"]?.string ?? "",
                                kind: TraceSpan.Kind(rawValue: UInt8(truncatingIfNeeded: kind)) ?? .unspecified,
                                start: Timestamp(
                                    nanoseconds: Int64(
                                        truncatingIfNeeded: try Self.unsigned(
                                            item["startTimeUnixNano"],
                                            "\(at).startTimeUnixNano"
                                        )
                                    )
                                ),
                                end: Timestamp(
                                    nanoseconds: Int64(
                                        truncatingIfNeeded: try Self.unsigned(
                                            item["endTimeUnixNano"],
                                            "\(at).endTimeUnixNano"
                                        )
                                    )
                                ),
                                isError: try Self.unsigned(item["status"]?["code"], "\(at).status.code") == 2,
                                peer: peers.peer
                            )
                        )
                    }
                }
            }
            return spans
        }
    }

    // MARK: - JSON pieces

    static func document(_ body: [UInt8], key: String) throws(IngestError) -> [JSONValue] {
        let document = try JSONParser.parse(body)
        guard case .object = document else { throw IngestError("expected a JSON object with \"\(key)\"") }
        return try Self.array(document[key], key)
    }

    /// An optional array (absent or null is empty).
    static func array(_ value: JSONValue?, _ path: String) throws(IngestError) -> [JSONValue] {
        switch value {
        case nil, .null?: return []
        case .array(let items)?: return items
        default: throw IngestError("\(path) must be an array")
        }
    }

    /// A non-negative integer given as a number or a decimal string; absent is 0.
    static func unsigned(_ value: JSONValue?, _ path: String) throws(IngestError) -> UInt64 {
        switch value {
        case nil, .null?: return 0
        case .number(let text)?, .string(let text)?:
            if let number = UInt64(text) { return number }
            if let number = Double(text), number >= 0, number < 1.8e19, number == number.rounded() {
                return UInt64(number)
            }
            throw IngestError("\(path) must be a non-negative integer, not \"\(text.prefix(40))\"")
        default: throw IngestError("\(path) must be an integer")
        }
    }

    /// Whether a JSON sum is a counter: monotonic, with cumulative temporality (an integer, or the enum's name
    /// as some encoders write it).
    static func isCounter(sum: JSONValue) -> Bool {
        guard case .bool(true) = sum["isMonotonic"] else { return false }
        let temporality = sum["aggregationTemporality"]
        return temporality?.int64 == Int64(Self.cumulative) || temporality?.string?.hasSuffix("CUMULATIVE") == true
    }

    static func resource(json value: JSONValue?) throws(IngestError) -> OTLPResource {
        var resource = OTLPResource()
        for label in try Self.labels(value?["attributes"], "resource.attributes") {
            resource.take(label.name, label.value)
        }
        return resource
    }

    static func labels(_ value: JSONValue?, _ path: String) throws(IngestError) -> [SeriesKey.Label] {
        var labels: [SeriesKey.Label] = []
        for (index, pair) in try Self.array(value, path).enumerated() {
            guard let key = pair["key"]?.string else { throw IngestError("\(path)[\(index)] has no key") }
            labels.append(
                .init(
                    key,
                    try pair["value"].map { value throws(IngestError) in try Self.anyValueText(json: value, depth: 0) }
                        ?? ""
                )
            )
        }
        return labels
    }

    static func anyValueText(json value: JSONValue, depth: Int) throws(IngestError) -> String {
        guard depth < 16 else { throw IngestError("an attribute value nests deeper than 16 levels") }
        if let text = value["stringValue"]?.string { return text }
        if case .bool(let flag)? = value["boolValue"] { return flag ? "true" : "false" }
        if let int = value["intValue"]?.int64 { return String(int) }
        if let double = value["doubleValue"]?.double { return "\(double)" }
        if let items = value["arrayValue"]?["values"]?.array {
            var parts: [String] = []
            for item in items { parts.append(try Self.anyValueText(json: item, depth: depth + 1)) }
            return "[" + parts.joined(separator: ", ") + "]"
        }
        if let pairs = value["kvlistValue"]?["values"]?.array {
            var parts: [String] = []
            for pair in pairs {
                let inner =
                    try pair["value"].map { value throws(IngestError) in
                        try Self.anyValueText(json: value, depth: depth + 1)
                    } ?? ""
                parts.append("\(pair["key"]?.string ?? "")=\(inner)")
            }
            return "{" + parts.joined(separator: ", ") + "}"
        }
        if let bytes = value["bytesValue"]?.string { return bytes }
        return ""
    }

    static func unhex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
