import DevenvRuntime
import DevenvText
import Foundation
import Yams

/// CDI specs written as YAML (`nvidia-ctk cdi generate` writes `.yaml` by default), read for
/// the runtime's `CDIRegistry`, which stays without a YAML parser (it is linked into the static
/// front end). The YAML becomes the JSON the runtime already checks, so both forms mean the
/// same: every scalar a string (a CDI spec's fields are strings), `~`/`null` a JSON null.
/// Aliases are expanded while converting, against a budget, so a file of nested aliases (a
/// "billion laughs") is an error, not an endless walk.
enum CDIYAMLReader {
    /// Nodes a spec may expand to: NVIDIA's spec for eight GPUs is a few thousand.
    static let maxNodes = 200_000
    static let nullTag = "tag:yaml.org,2002:null"

    static func spec(_ bytes: [UInt8], path: String) throws -> CDISpec {
        let problem = { (reason: String) in RuntimeError.invalid("CDI spec \(ContainerPath.quote(path)): \(reason)") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw problem("not UTF-8 text") }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw problem("not YAML (\(Printable.escape("\(error)", limit: 300)))")
        }
        guard let root else { throw problem("empty") }
        var budget = maxNodes
        let object = try json(root, budget: &budget, problem: problem)
        guard object is [String: Any] else { throw problem("not a CDI spec (the document is not a mapping)") }
        return try CDISpec.decode(Array(try JSONSerialization.data(withJSONObject: object)), path: path, format: "YAML")
    }

    private static func json(_ node: Node, budget: inout Int, problem: (String) -> RuntimeError) throws -> Any {
        budget -= 1
        guard budget >= 0 else { throw problem("expands to more than \(maxNodes) nodes (through aliases?)") }
        switch node {
        case let .scalar(scalar):
            // The resolved tag, so a quoted "null" stays a string.
            return node.tag.description == nullTag ? NSNull() : scalar.string
        case let .sequence(sequence):
            return try sequence.map { try json($0, budget: &budget, problem: problem) }
        case let .mapping(mapping):
            var object: [String: Any] = [:]
            for (key, value) in mapping {
                guard case let .scalar(name) = key else { throw problem("a mapping key is not a scalar") }
                object[name.string] = try json(value, budget: &budget, problem: problem)
            }
            return object
        }
    }
}

extension CDIRegistry {
    /// The host's CDI specs, JSON and YAML.
    public static func host() -> CDIRegistry { CDIRegistry(yaml: CDIYAMLReader.spec) }
}
