import DevenvRuntime
import DevenvText
import Foundation
import Yams

/// CDI specs written as YAML (`nvidia-ctk cdi generate` writes `.yaml` by default), read for
/// the runtime's `CDIRegistry`, which stays without a YAML parser (it is linked into the static
/// front end). The YAML becomes the JSON the runtime already checks, so both forms mean the
/// same: every scalar a string (a CDI spec's fields are strings), `~`/`null` a JSON null.
/// Aliases are expanded while converting, against a budget, so a file of nested aliases (a
/// "billion laughs") is an error, not an endless walk; nesting is capped before parsing, so
/// a file of `[[[[…` cannot exhaust the stack of the recursive composer.
enum CDIYAMLReader {
    /// Nodes a spec may expand to: NVIDIA's spec for eight GPUs is a few thousand.
    static let maxNodes = 200_000
    /// Nesting a spec may have: a CDI spec is about five levels deep.
    static let maxDepth = 64
    static let nullTag = "tag:yaml.org,2002:null"

    static func spec(_ bytes: [UInt8], path: String) throws -> CDISpec {
        let problem = { (reason: String) in RuntimeError.invalid("CDI spec \(ContainerPath.quote(path)): \(reason)") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw problem("not UTF-8 text") }
        guard flowDepth(bytes) <= maxDepth else { throw problem("nests deeper than \(maxDepth) levels") }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw problem("not YAML (\(Printable.escape("\(error)", limit: 300)))")
        }
        guard let root else { throw problem("empty") }
        var budget = maxNodes
        let object = try json(root, depth: 0, budget: &budget, problem: problem)
        guard object is [String: Any] else { throw problem("not a CDI spec (the document is not a mapping)") }
        return try CDISpec.decode(Array(try JSONSerialization.data(withJSONObject: object)), path: path, format: "YAML")
    }

    /// The deepest nesting of flow collections (`[`, `{`) outside quoted scalars and comments.
    static func flowDepth(_ bytes: [UInt8]) -> Int {
        var depth = 0, deepest = 0
        var quote: UInt8?
        var comment = false
        for byte in bytes {
            if comment {
                if byte == UInt8(ascii: "\n") { comment = false }
            } else if let open = quote {
                if byte == open { quote = nil }
            } else {
                switch byte {
                case UInt8(ascii: "'"), UInt8(ascii: "\""): quote = byte
                case UInt8(ascii: "#"): comment = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    deepest = max(deepest, depth)
                case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
                default: break
                }
            }
        }
        return deepest
    }

    private static func json(_ node: Node, depth: Int, budget: inout Int, problem: (String) -> RuntimeError) throws -> Any {
        budget -= 1
        guard budget >= 0 else { throw problem("expands to more than \(maxNodes) nodes (through aliases?)") }
        guard depth <= maxDepth else { throw problem("nests deeper than \(maxDepth) levels") }
        switch node {
        case let .scalar(scalar):
            // The resolved tag, so a quoted "null" stays a string.
            return node.tag.description == nullTag ? NSNull() : scalar.string
        case let .sequence(sequence):
            return try sequence.map { try json($0, depth: depth + 1, budget: &budget, problem: problem) }
        case let .mapping(mapping):
            var object: [String: Any] = [:]
            for (key, value) in mapping {
                guard case let .scalar(name) = key else { throw problem("a mapping key is not a scalar") }
                object[name.string] = try json(value, depth: depth + 1, budget: &budget, problem: problem)
            }
            return object
        }
    }
}

extension CDIRegistry {
    /// The host's CDI specs, JSON and YAML.
    public static func host() -> CDIRegistry { CDIRegistry(yaml: CDIYAMLReader.spec) }
}
