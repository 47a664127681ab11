// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import HTTPTypes
import Hummingbird
import NIOCore
import VigilCore

/// The web UI: one page, its script and its style sheet, compiled into the binary from `WebUI/` (Package.swift
/// embeds them), so `vigil serve` needs no files beside it. The page reads the REST API and renders what it gets
/// as text, never as HTML; the Content-Security-Policy lets it load nothing but these assets and the API.
enum WebUI {
    /// One file the UI is made of.
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
        /// A strong validator: the content's hash, so a browser revalidates for free after an upgrade.
        let entityTag: String

        init(_ bytes: [UInt8], contentType: String) {
            self.bytes = bytes
            self.contentType = contentType
            let hash = bytes.withUnsafeBytes { SignatureHash.of($0) }
            let hex = String(hash, radix: 16)
            self.entityTag = "\"" + String(repeating: "0", count: 16 - hex.count) + hex + "\""
        }
    }

    /// The assets by the path they are served at.
    static let assets: [String: Asset] = [
        "/": Asset(PackageResources.index_html, contentType: "text/html; charset=utf-8"),
        "/ui/app.js": Asset(PackageResources.app_js, contentType: "text/javascript; charset=utf-8"),
        "/ui/style.css": Asset(PackageResources.style_css, contentType: "text/css; charset=utf-8"),
    ]

    /// Scripts and styles from this origin only, no inline code, no framing; `data:` only for the empty favicon.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// Adds `GET /` and `GET /ui/…` to a router.
    static func addRoutes(to router: Router<BasicRequestContext>) {
        for (path, asset) in Self.assets {
            router.get(RouterPath(path)) { request, _ in Self.response(for: asset, request: request) }
        }
        router.get("/ui") { _, _ in Response(status: .movedPermanently, headers: [.location: "/"]) }
    }

    /// The asset, or 304 when the browser already holds this version.
    static func response(for asset: Asset, request: Request) -> Response {
        var headers = HTTPFields()
        headers[.eTag] = asset.entityTag
        // Revalidate every time (a 304 costs a round trip, not the bytes), so an upgraded server is never
        // paired with a stale script.
        headers[.cacheControl] = "no-cache"
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if let tags = request.headers[.ifNoneMatch],
            tags.split(separator: ",").contains(where: { $0.trimmingSpaces == asset.entityTag || $0 == "*" })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = asset.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
