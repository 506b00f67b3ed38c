/// Removal of credentials from text before it becomes a message: registries echo request
/// headers and bodies in their errors, and URLs can carry `user:password@`. One set of
/// rules, applied where registry text becomes an error and again where the CLI prints.
///
/// What is replaced by `Redaction.marker`:
/// - every string in `secrets` (the exact values devenv sent or holds; callers register
///   each secret's derived forms too, see `forms(ofSecret:)`);
/// - the credentials after `Basic` (base64 of `user:password`) or `Bearer` (a token of 12 or
///   more characters with a digit or punctuation), in any case;
/// - the value of a `token`, `access_token`, `refresh_token`, `id_token`, `identitytoken`,
///   `password`, `secret` or `auth` field, as JSON (`"token": "…"`) or form/query (`token=…`);
/// - the user information of a URL (`https://user:password@host` → `https://<redacted>@host`).
public enum Redaction {
    public static let marker = "<redacted>"

    /// Secrets shorter than this are not matched exactly (a one-letter password would blank
    /// every such letter); the patterns above still catch them in headers and fields.
    public static let minimumSecretLength = 4

    static let fields: Set<String> = ["token", "access_token", "refresh_token", "id_token", "identitytoken", "password", "secret", "auth"]

    public static func redact(_ text: String, secrets: [String] = []) -> String {
        var bytes = Array(text.utf8)
        for secret in secrets.sorted(by: { $0.utf8.count > $1.utf8.count }) where secret.utf8.count >= minimumSecretLength {
            bytes = replacing(Array(secret.utf8), in: bytes)
        }
        bytes = redactSchemes(bytes)
        bytes = redactFields(bytes)
        bytes = redactUserInfo(bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The forms in which a secret may come back: as it is, base64 (standard and URL-safe,
    /// with and without padding), percent-encoded (form bodies) and escaped by `Printable`.
    public static func forms(ofSecret secret: String) -> [String] {
        guard !secret.isEmpty else { return [] }
        let base64 = Base64.encode(Array(secret.utf8))
        let unpadded = String(base64.prefix { $0 != "=" })
        let urlSafe = String(unpadded.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
        return Array(Set([secret, base64, unpadded, urlSafe, percentEncoded(secret), Printable.escape(secret, limit: .max)]))
    }

    /// The secrets in an Authorization header value: the whole value, its credentials and,
    /// for Basic, the decoded `user:password` and the password.
    public static func forms(ofAuthorization value: String) -> [String] {
        var result = forms(ofSecret: value)
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return result }
        let credentials = String(parts[1])
        result += forms(ofSecret: credentials)
        if parts[0].lowercased() == "basic", let decoded = Base64.decode(credentials), let text = String(validating: decoded, as: UTF8.self) {
            result += forms(ofSecret: text)
            if let colon = text.firstIndex(of: ":") { result += forms(ofSecret: String(text[text.index(after: colon)...])) }
        }
        return Array(Set(result))
    }

    // MARK: Rules

    private static let markerBytes = Array(marker.utf8)

    private static func replacing(_ needle: [UInt8], in haystack: [UInt8]) -> [UInt8] {
        guard !needle.isEmpty, haystack.count >= needle.count else { return haystack }
        var out: [UInt8] = []
        out.reserveCapacity(haystack.count)
        var index = 0
        while index < haystack.count {
            if haystack[index] == needle[0], index + needle.count <= haystack.count, haystack[index..<(index + needle.count)].elementsEqual(needle) {
                out += markerBytes
                index += needle.count
            } else {
                out.append(haystack[index])
                index += 1
            }
        }
        return out
    }

    private static func isToken68(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || "-._~+/".utf8.contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
    }

    private static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte }

    private static func matchesWord(_ word: String, in bytes: [UInt8], at index: Int) -> Bool {
        let word = Array(word.utf8)
        guard index + word.count <= bytes.count else { return false }
        if index > 0 && isAlphanumeric(bytes[index - 1]) { return false }
        for offset in 0..<word.count where lower(bytes[index + offset]) != word[offset] { return false }
        return true
    }

    /// `Basic xxx`, `Bearer xxx` → `Basic <redacted>`.
    private static func redactSchemes(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            guard let scheme = ["basic", "bearer"].first(where: { matchesWord($0, in: bytes, at: index) }) else {
                out.append(bytes[index])
                index += 1
                continue
            }
            var cursor = index + scheme.utf8.count
            var start = cursor
            while start < bytes.count, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            var end = start
            while end < bytes.count, isToken68(bytes[end]) { end += 1 }
            let core = end - start
            while end < bytes.count, bytes[end] == UInt8(ascii: "=") { end += 1 }
            // `Basic realm="…"` in a challenge is a parameter list, not credentials: a
            // token68's '=' is padding, never followed by a value.
            let isParameter = end > start + core && end < bytes.count && (bytes[end] == UInt8(ascii: "\"") || isToken68(bytes[end]))
            if start > cursor, !isParameter, looksLikeCredentials(scheme: scheme, Array(bytes[start..<end])) {
                out += bytes[index..<start]
                out += markerBytes
                cursor = end
            } else {
                out += bytes[index..<cursor]
            }
            index = cursor
        }
        return out
    }

    /// Whether the word after `Basic`/`Bearer` is credentials rather than prose ("Basic
    /// authentication"): Basic's must decode to `user:password`; a bearer token is long and
    /// has a digit or punctuation, as JWTs and random tokens do.
    private static func looksLikeCredentials(scheme: String, _ value: [UInt8]) -> Bool {
        guard value.count >= minimumSecretLength else { return false }
        if scheme == "basic" {
            return Base64.decode(String(decoding: value, as: UTF8.self))?.contains(UInt8(ascii: ":")) ?? false
        }
        return value.count >= 12 && value.contains { !(($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a)) }
    }

    /// `"token": "xxx"` and `token=xxx` → the value redacted.
    private static func redactFields(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            guard isAlphanumeric(bytes[index]) || bytes[index] == UInt8(ascii: "_"), index == 0 || !(isAlphanumeric(bytes[index - 1]) || bytes[index - 1] == UInt8(ascii: "_")) else {
                out.append(bytes[index])
                index += 1
                continue
            }
            var end = index
            while end < bytes.count, isAlphanumeric(bytes[end]) || bytes[end] == UInt8(ascii: "_") { end += 1 }
            let name = String(decoding: bytes[index..<end].map(lower), as: UTF8.self)
            out += bytes[index..<end]
            index = end
            guard fields.contains(name) else { continue }
            if let valueRange = jsonValue(in: bytes, afterName: end) ?? formValue(in: bytes, afterName: end) {
                out += bytes[end..<valueRange.lowerBound]
                out += markerBytes
                index = valueRange.upperBound
            }
        }
        return out
    }

    /// After `token` in `"token" : "value"`: the range of `value` (to the closing quote, or
    /// to the end of a cut-off text).
    private static func jsonValue(in bytes: [UInt8], afterName end: Int) -> Range<Int>? {
        var cursor = end
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "\"") else { return nil }
        cursor += 1
        while cursor < bytes.count, bytes[cursor] == 0x20 { cursor += 1 }
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: ":") else { return nil }
        cursor += 1
        while cursor < bytes.count, bytes[cursor] == 0x20 { cursor += 1 }
        guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "\"") else { return nil }
        let start = cursor + 1
        var stop = start
        while stop < bytes.count {
            if bytes[stop] == UInt8(ascii: "\\") { stop += 2; continue }
            if bytes[stop] == UInt8(ascii: "\"") { break }
            stop += 1
        }
        return start..<min(stop, bytes.count)
    }

    /// After `token` in `token=value&…`: the range of `value`.
    private static func formValue(in bytes: [UInt8], afterName end: Int) -> Range<Int>? {
        guard end < bytes.count, bytes[end] == UInt8(ascii: "=") else { return nil }
        let start = end + 1
        var stop = start
        while stop < bytes.count, !" \t\r\n&,;\"'<>)".utf8.contains(bytes[stop]) { stop += 1 }
        return stop > start ? start..<stop : nil
    }

    /// `scheme://userinfo@` → `scheme://<redacted>@`.
    private static func redactUserInfo(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        let separator = Array("://".utf8)
        while index < bytes.count {
            guard index + 3 <= bytes.count, bytes[index..<(index + 3)].elementsEqual(separator) else {
                out.append(bytes[index])
                index += 1
                continue
            }
            out += separator
            index += 3
            var stop = index
            while stop < bytes.count, !" \t\r\n/?#@\"'<>".utf8.contains(bytes[stop]) { stop += 1 }
            if stop < bytes.count, bytes[stop] == UInt8(ascii: "@"), stop > index {
                out += markerBytes
                index = stop
            }
        }
        return out
    }

    private static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if isAlphanumeric(byte) || "-._~".utf8.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded
            }
        }
        return out
    }
}

extension String {
    fileprivate var leftPadded: String { count == 1 ? "0" + self : self }
}

/// RFC 4648 base64, for the forms of a secret (DevenvText imports nothing, not even Foundation).
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let b0 = chunk[chunk.startIndex]
            let b1 = chunk.count > 1 ? chunk[chunk.startIndex + 1] : 0
            let b2 = chunk.count > 2 ? chunk[chunk.startIndex + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(chunk.count > 1 ? alphabet[Int((b1 & 0x0f) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(chunk.count > 2 ? alphabet[Int(b2 & 0x3f)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for byte in text.utf8 where byte != UInt8(ascii: "=") {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "/"), UInt8(ascii: "_"): values.append(63)
            default: return nil
            }
        }
        var out: [UInt8] = []
        var index = 0
        while index + 1 < values.count {
            out.append(values[index] << 2 | values[index + 1] >> 4)
            if index + 2 < values.count { out.append(values[index + 1] << 4 | values[index + 2] >> 2) }
            if index + 3 < values.count { out.append(values[index + 2] << 6 | values[index + 3]) }
            index += 4
        }
        return out
    }
}
