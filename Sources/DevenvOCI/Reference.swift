/// An image reference parsed the way Docker parses it: `debian` is
/// `docker.io/library/debian:latest`, `localhost:5000/team/env@sha256:…` names a digest.
public struct Reference: Hashable, Sendable, CustomStringConvertible {
    public static let defaultRegistry = "docker.io"
    public static let defaultTag = "latest"

    public var registry: String
    public var repository: String
    public var tag: String?
    public var digest: Digest?

    public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    public init(parsing text: String) throws {
        guard !text.isEmpty else { throw OCIError.invalidReference(text, reason: "empty reference") }
        guard text.utf8.count <= 255 + 128 + 72 else { throw OCIError.invalidReference(text, reason: "too long") }
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            digest = try Self.parseDigest(String(rest[rest.index(after: at)...]), in: text)
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let candidate = String(rest[rest.index(after: colon)...])
            guard Self.isValidTag(candidate) else {
                throw OCIError.invalidReference(text, reason: "tag \(Printable.quoted(candidate)) must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
            }
            tag = candidate
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var registry = Self.defaultRegistry
        if components.count > 1, Self.looksLikeRegistry(components[0]) {
            registry = components.removeFirst()
            guard Self.isValidRegistry(registry) else {
                throw OCIError.invalidReference(text, reason: "registry \(Printable.quoted(registry)) is not a valid host[:port]")
            }
        }
        for component in components where !Self.isValidPathComponent(component) {
            throw OCIError.invalidReference(text, reason: component.isEmpty
                ? "empty path component"
                : "repository component \(Printable.quoted(component)) must be lowercase letters, digits and separators (. _ __ -)")
        }
        if registry == "index.docker.io" { registry = Self.defaultRegistry }
        if registry == Self.defaultRegistry && components.count == 1 { components.insert("library", at: 0) }
        self.registry = registry
        self.repository = components.joined(separator: "/")
        self.tag = tag ?? (digest == nil ? Self.defaultTag : nil)
        self.digest = digest
        guard repository.utf8.count <= 255 else { throw OCIError.invalidReference(text, reason: "repository name longer than 255 characters") }
    }

    /// The fully qualified name without tag or digest.
    public var name: String { "\(registry)/\(repository)" }

    public var description: String {
        var out = name
        if let tag { out += ":\(tag)" }
        if let digest { out += "@\(digest)" }
        return out
    }

    /// The short form people type: `debian:12` rather than `docker.io/library/debian:12`.
    public var familiar: String {
        var base = name
        if registry == Self.defaultRegistry {
            base = repository.hasPrefix("library/") ? String(repository.dropFirst("library/".count)) : repository
        }
        if let tag { base += ":\(tag)" }
        if let digest { base += "@\(digest)" }
        return base
    }

    public func withTag(_ tag: String) -> Reference {
        Reference(registry: registry, repository: repository, tag: tag, digest: nil)
    }

    private static func parseDigest(_ text: String, in reference: String) throws -> Digest {
        do {
            return try Digest(parsing: text)
        } catch {
            throw OCIError.invalidReference(reference, reason: "\((error as? OCIError)?.description ?? "\(error)")")
        }
    }

    private static func looksLikeRegistry(_ component: String) -> Bool {
        component.contains(".") || component.contains(":") || component == "localhost"
            || component.contains(where: { $0.isUppercase })
    }

    private static func isValidRegistry(_ host: String) -> Bool {
        var hostPart = Substring(host)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let after = host[host.index(after: close)...]
            return after.isEmpty || (after.hasPrefix(":") && isPort(after.dropFirst()))
        }
        if let colon = host.lastIndex(of: ":") {
            guard isPort(host[host.index(after: colon)...]) else { return false }
            hostPart = host[..<colon]
        }
        return !hostPart.isEmpty && hostPart.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    private static func isPort(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 5 && text.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isValidPathComponent(_ component: String) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if isAlnum(byte) { index += 1; continue }
            // A separator run: ".", "_", "__" or one or more "-".
            var end = index
            while end < bytes.count, !isAlnum(bytes[end]) { end += 1 }
            let run = bytes[index..<end]
            let ok = run.elementsEqual([UInt8(ascii: ".")]) || run.elementsEqual([UInt8(ascii: "_")])
                || run.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")]) || run.allSatisfy { $0 == UInt8(ascii: "-") }
            guard ok else { return false }
            index = end
        }
        return true
    }

    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, bytes.count <= 128, isWord(first) else { return false }
        return bytes.allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlnum(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39)
    }

    private static func isWord(_ byte: UInt8) -> Bool {
        isAlnum(byte) || (byte >= 0x41 && byte <= 0x5a) || byte == UInt8(ascii: "_")
    }
}
