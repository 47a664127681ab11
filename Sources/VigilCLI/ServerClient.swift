// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Talks to a running `vigil serve` for the commands that read or change its state (`ask`, `remediate`), with
/// errors that say what to do.
struct ServerClient {
    /// The server's base URL, as given (`--server` or `VIGIL_SERVER`).
    let server: String

    /// The answer of `path` as `T`; anything but the `expected` status is an error naming the server's message.
    func request<T: Decodable>(
        _ path: String,
        as type: T.Type,
        method: String = "GET",
        json body: [String: String]? = nil,
        token: String? = nil,
        expected: Int = 200
    ) async throws -> T {
        let base = self.server.hasSuffix("/") ? String(self.server.dropLast()) : self.server
        guard let url = URL(string: base + path), url.host != nil else {
            throw ValidationError("--server \"\(self.server)\" is not a URL, such as http://127.0.0.1:3100")
        }
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method
        if let body {
            request.httpBody = try JSONEncoder().encode(body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError(
                "cannot reach vigil serve at \(self.server) (\(error.localizedDescription)); start it with "
                    + "`vigil serve`, or name another with --server or VIGIL_SERVER"
            )
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == expected else {
            let message =
                (try? JSONDecoder().decode(ServerFailure.self, from: data))?.error.message
                ?? String(decoding: data.prefix(200), as: UTF8.self)
            throw CLIError("\(self.server)\(path) answered HTTP \(status): \(message)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw CLIError("\(self.server)\(path) did not answer as vigil serve does: \(error)")
        }
    }

    /// `text` made safe for one path segment.
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove("/")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

/// The body of a `vigil serve` error answer: `{"error": {"message": "…"}}`.
private struct ServerFailure: Decodable {
    struct Detail: Decodable { var message: String }
    var error: Detail
}
