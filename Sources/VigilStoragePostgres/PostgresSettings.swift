// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import NIOSSL
import PostgresNIO

/// Where the PostgreSQL store lives, read from a libpq-style URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-full]`.
public struct PostgresSettings: Sendable, Equatable {
    /// How the connection is encrypted, with libpq's names.
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plaintext.
        case disable
        /// TLS when the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS always, without checking the certificate.
        case require
        /// TLS always, the certificate checked against the system's CAs and the host name.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// Reads a `postgres://` or `postgresql://` URL; the error says which part is wrong.
    public init(url text: String) throws {
        guard let components = URLComponents(string: text),
            components.scheme == "postgres" || components.scheme == "postgresql"
        else {
            throw PostgresStoreError(
                message: "the PostgreSQL URL must look like postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
            )
        }
        guard let host = components.host, !host.isEmpty else {
            throw PostgresStoreError(message: "the PostgreSQL URL names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw PostgresStoreError(message: "the PostgreSQL URL names no user (postgres://USER@HOST/DATABASE)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresStoreError(message: "the PostgreSQL URL names no database (postgres://USER@HOST/DATABASE)")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user
        self.password = components.password
        self.database = database
        self.tls = .prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    let known = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw PostgresStoreError(message: "sslmode must be one of \(known), not \(item.value ?? "empty")")
                }
                self.tls = mode
            default:
                throw PostgresStoreError(message: "the PostgreSQL URL's option \(item.name) is not known (sslmode is)")
            }
        }
    }

    /// The URL without its password, for messages and logs.
    public var place: String { "postgres://\(self.user)@\(self.host):\(self.port)/\(self.database)" }

    func configuration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch self.tls {
        case .disable:
            tls = .disable
        case .prefer, .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            let context = try NIOSSLContext(configuration: configuration)
            tls = self.tls == .prefer ? .prefer(context) : .require(context)
        case .verifyFull:
            tls = .require(try NIOSSLContext(configuration: TLSConfiguration.makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: self.host,
            port: self.port,
            username: self.user,
            password: self.password,
            database: self.database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }
}
