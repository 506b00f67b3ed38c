import DevenvText

/// The order features install in, as the Dev Container Features spec defines it: in rounds,
/// each round taking every feature whose `dependsOn` (hard) and `installsAfter` (soft,
/// only among the features present) are installed; `overrideFeatureInstallOrder` lets only
/// the highest-priority candidates of a round go; within a round, by id then options.
public enum FeatureOrder {
    public struct Node: Sendable, Equatable {
        /// The feature's identity: the reference without its tag or digest.
        public var key: String
        /// What the user would write for it (messages, the override list).
        public var reference: String
        public var dependsOn: [String]
        public var installsAfter: [String]
        /// For the tie-break: the options' canonical text.
        public var options: String

        public init(key: String, reference: String, dependsOn: [String], installsAfter: [String], options: String) {
            self.key = key
            self.reference = reference
            self.dependsOn = dependsOn
            self.installsAfter = installsAfter
            self.options = options
        }
    }

    /// Indexes into `nodes` (one per key), in install order. `override` holds identities (keys), earliest first.
    public static func sort(_ nodes: [Node], override: [String]) throws(FeatureProblem) -> [Int] {
        let present = Set(nodes.map(\.key))
        var installed = Set<String>()
        var remaining = Array(nodes.indices)
        var order: [Int] = []
        while !remaining.isEmpty {
            var candidates = remaining.filter { index in
                let node = nodes[index]
                return node.dependsOn.allSatisfy(installed.contains)
                    && node.installsAfter.allSatisfy { !present.contains($0) || installed.contains($0) || $0 == node.key }
            }
            guard !candidates.isEmpty else { throw FeatureProblem(cycleDescription(nodes, remaining)) }
            let priority = { (index: Int) -> Int in
                override.firstIndex(of: nodes[index].key).map { override.count - $0 } ?? 0
            }
            let top = candidates.map(priority).max() ?? 0
            candidates = candidates.filter { priority($0) == top }
            candidates.sort { (nodes[$0].key, nodes[$0].options) < (nodes[$1].key, nodes[$1].options) }
            order += candidates
            installed.formUnion(candidates.map { nodes[$0].key })
            remaining.removeAll { candidates.contains($0) }
        }
        return order
    }

    /// `a -> b -> a`: a cycle among the features that could not be placed, found by walking
    /// from one of them along dependencies that are also unplaced.
    private static func cycleDescription(_ nodes: [Node], _ remaining: [Int]) -> String {
        let unplaced = Set(remaining.map { nodes[$0].key })
        let byKey = Dictionary(remaining.map { (nodes[$0].key, nodes[$0]) }, uniquingKeysWith: { first, _ in first })
        var path: [String] = []
        var current = nodes[remaining[0]].key
        while !path.contains(current) {
            path.append(current)
            guard let node = byKey[current],
                  let next = (node.dependsOn + node.installsAfter).first(where: { unplaced.contains($0) && $0 != current }) else { break }
            current = next
        }
        let start = path.firstIndex(of: current) ?? 0
        let cycle = Array(path[start...]) + [current]
        let names = cycle.map { key in byKey[key]?.reference ?? key }
        return "the features depend on each other in a cycle: \(names.map { Printable.escape($0, limit: 128) }.joined(separator: " -> "))"
    }
}
