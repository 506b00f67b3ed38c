import FoundationEssentials

/// Decoding and encoding of OCI JSON documents with the checks a hostile registry or
/// archive makes necessary: bounded size, no guessing of types.
public enum OCIDocument {
    /// The largest manifest, index or config devenv reads (containers/image uses 4 MiB).
    public static let maxSize: Int64 = 4 << 20

    public enum Parsed: Sendable {
        case manifest(ImageManifest)
        case index(ImageIndex)
    }

    /// Parses a manifest or index. `declaredType` is what the transport said (a descriptor's
    /// mediaType or a Content-Type header); it must agree with the body's own mediaType.
    public static func parse(_ data: Data, declaredType: String?) throws -> Parsed {
        guard data.count <= maxSize else { throw OCIError.tooLarge(what: "manifest", size: data.count, limit: Int(maxSize)) }
        let probe: Probe
        do {
            probe = try JSONDecoder().decode(Probe.self, from: data)
        } catch let error as DecodingError {
            throw OCIError.invalidDocument(what: "manifest", reason: "not valid JSON (\(describe(error)))")
        } catch {
            throw OCIError.invalidDocument(what: "manifest", reason: "not valid JSON (\(error))")
        }
        let bodyType = probe.mediaType
        if let declared = declaredType, let bodyType, declared != bodyType {
            throw OCIError.invalidDocument(what: "manifest", reason: "declared media type \(Printable.quoted(declared)) differs from the document's mediaType \(Printable.quoted(bodyType))")
        }
        let type = bodyType ?? declaredType
        if type == MediaType.dockerSchema1 || type == MediaType.dockerSchema1Signed || probe.schemaVersion == 1 {
            throw OCIError.unsupportedMediaType(type ?? "schema1", context: "manifest (Docker schema 1 is not supported; re-push the image with a current tool)")
        }
        let resolved: String
        if let type {
            resolved = type
        } else if probe.manifests != nil && probe.layers == nil {
            resolved = MediaType.imageIndex
        } else if probe.layers != nil && probe.manifests == nil {
            resolved = MediaType.imageManifest
        } else {
            throw OCIError.invalidDocument(what: "manifest", reason: "no mediaType and the document is ambiguous (both or neither of 'manifests' and 'layers')")
        }
        if MediaType.isIndex(resolved) {
            guard probe.layers == nil else { throw OCIError.invalidDocument(what: "image index", reason: "an index must not have 'layers'") }
            let index: ImageIndex = try decode(data, as: "image index")
            for entry in index.manifests { try entry.validate(maxSize: maxSize, context: "index entry") }
            return .index(index)
        }
        if MediaType.isManifest(resolved) {
            guard probe.manifests == nil else { throw OCIError.invalidDocument(what: "image manifest", reason: "a manifest must not have 'manifests'") }
            let manifest: ImageManifest = try decode(data, as: "image manifest")
            try manifest.validate()
            return .manifest(manifest)
        }
        throw OCIError.unsupportedMediaType(resolved, context: "manifest")
    }

    public static func decode<T: Decodable>(_ data: Data, as what: String) throws -> T {
        guard data.count <= maxSize else { throw OCIError.tooLarge(what: what, size: data.count, limit: Int(maxSize)) }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw OCIError.invalidDocument(what: what, reason: describe(error))
        } catch {
            throw OCIError.invalidDocument(what: what, reason: "\(error)")
        }
    }

    /// Canonical bytes for documents devenv writes: sorted keys and no escaped slashes, so the
    /// same content always has the same digest.
    public static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            preconditionFailure("encoding an OCI document cannot fail: \(error)")
        }
    }

    private struct Probe: Decodable {
        var schemaVersion: Int?
        var mediaType: String?
        var manifests: [IgnoredValue]?
        var layers: [IgnoredValue]?
    }

    private struct IgnoredValue: Decodable {
        init(from decoder: Decoder) throws {}
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "" : " at \(keys)"
        }
        switch error {
        case let .keyNotFound(key, context): return "missing key '\(key.stringValue)'\(path(context))"
        case let .typeMismatch(type, context): return "expected \(type)\(path(context)): \(context.debugDescription)"
        case let .valueNotFound(type, context): return "missing \(type)\(path(context))"
        case let .dataCorrupted(context): return "\(context.debugDescription)\(path(context))"
        @unknown default: return "\(error)"
        }
    }
}
