// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The messages of KEDA's external scaler (`externalscaler.proto`, package `externalscaler`), read and written
/// by hand: requests in, responses out.
public enum ExternalScalerMessages {
    /// `ScaledObjectRef`: which ScaledObject asks, and its trigger's metadata.
    public struct ScaledObjectRef: Sendable, Equatable {
        public var name = ""
        public var namespace = ""
        /// The trigger's `metadata`, every key as given.
        public var scalerMetadata: [String: String] = [:]

        /// An empty reference.
        public init(name: String = "", namespace: String = "", scalerMetadata: [String: String] = [:]) {
            self.name = name
            self.namespace = namespace
            self.scalerMetadata = scalerMetadata
        }
    }

    /// `MetricSpec` and `MetricValue` share their shape: a name and a number.
    public struct Metric: Sendable, Equatable {
        public var name: String
        public var value: Double

        /// Creates a metric.
        public init(name: String, value: Double) {
            self.name = name
            self.value = value
        }
    }

    /// Reads a `ScaledObjectRef`.
    public static func scaledObjectRef(_ bytes: ArraySlice<UInt8>) throws(IngestError) -> ScaledObjectRef {
        var reader = ProtobufReader(bytes)
        var reference = ScaledObjectRef()
        while !reader.isAtEnd {
            let (number, wireType) = try reader.field()
            switch (number, wireType) {
            case (1, 2): reference.name = try Self.text(reader.lengthDelimited())
            case (2, 2): reference.namespace = try Self.text(reader.lengthDelimited())
            case (3, 2):
                var entry = ProtobufReader(try reader.lengthDelimited())
                var key = ""
                var value = ""
                while !entry.isAtEnd {
                    let (entryNumber, entryWireType) = try entry.field()
                    switch (entryNumber, entryWireType) {
                    case (1, 2): key = try Self.text(entry.lengthDelimited())
                    case (2, 2): value = try Self.text(entry.lengthDelimited())
                    default: try entry.skip(wireType: entryWireType)
                    }
                }
                reference.scalerMetadata[key] = value
            default: try reader.skip(wireType: wireType)
            }
        }
        return reference
    }

    /// Reads a `GetMetricsRequest`: the reference and the metric's name.
    public static func metricsRequest(
        _ bytes: ArraySlice<UInt8>
    ) throws(IngestError) -> (reference: ScaledObjectRef, metricName: String) {
        var reader = ProtobufReader(bytes)
        var reference = ScaledObjectRef()
        var name = ""
        while !reader.isAtEnd {
            let (number, wireType) = try reader.field()
            switch (number, wireType) {
            case (1, 2): reference = try Self.scaledObjectRef(reader.lengthDelimited())
            case (2, 2): name = try Self.text(reader.lengthDelimited())
            default: try reader.skip(wireType: wireType)
            }
        }
        return (reference, name)
    }

    /// `IsActiveResponse { bool result = 1; }`.
    public static func isActiveResponse(_ isActive: Bool) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.field(1, varint: isActive ? 1 : 0)
        return writer.bytes
    }

    /// `GetMetricSpecResponse { repeated MetricSpec metricSpecs = 1; }` with `MetricSpec { metricName = 1;
    /// targetSize = 2 (int64, deprecated); targetSizeFloat = 3 }`.
    public static func metricSpecResponse(_ specs: [Metric]) -> [UInt8] {
        Self.metrics(specs)
    }

    /// `GetMetricsResponse { repeated MetricValue metricValues = 1; }` with `MetricValue { metricName = 1;
    /// metricValue = 2 (int64, deprecated); metricValueFloat = 3 }`.
    public static func metricsResponse(_ values: [Metric]) -> [UInt8] {
        Self.metrics(values)
    }

    /// Both responses: each metric with its name, the whole number (rounded up, for old KEDA) and the exact one.
    static func metrics(_ metrics: [Metric]) -> [UInt8] {
        var writer = ProtobufWriter()
        for metric in metrics {
            var inner = ProtobufWriter()
            inner.field(1, bytes: Array(metric.name.utf8))
            let whole = metric.value.isFinite ? Int64(max(-9.2e18, min(9.2e18, metric.value.rounded(.up)))) : 0
            inner.field(2, varint: UInt64(bitPattern: whole))
            inner.fixed64(3, metric.value.bitPattern)
            writer.field(1, bytes: inner.bytes)
        }
        return writer.bytes
    }

    static func text(_ bytes: ArraySlice<UInt8>) throws(IngestError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw IngestError("protobuf: a string field is not UTF-8")
        }
        return text
    }
}
