/// How a `packages` step's upper directory splits into layers: every node dpkg lists for a
/// package goes to that package's layer, with the directories above it, so a layer holds
/// what its package installed and nothing that depends on which other packages the step
/// installed; what no package claims (the package database, what maintainer scripts
/// wrote or deleted) goes to the last layer. Pure: `UpperSplit` reads the tree and the lists.
public enum PackageLayerPlan {
    public struct Node: Hashable, Sendable {
        public enum Kind: Hashable, Sendable {
            case directory
            /// A regular file of this many bytes (what the cap ranks packages by).
            case file(size: Int64)
            /// Symlinks, whiteouts, devices, FIFOs.
            case other
        }

        /// Relative to the upper directory, no leading or trailing slash.
        public var path: String
        public var kind: Kind
        /// An overlay opaque directory: it hides the lower layers' contents.
        public var isOpaque: Bool

        public init(path: String, kind: Kind, isOpaque: Bool = false) {
            self.path = path
            self.kind = kind
            self.isOpaque = isOpaque
        }
    }

    public struct Layer: Equatable, Sendable, Codable {
        /// The packages whose files it holds; empty for the scripts' layer.
        public var packages: [String]
        /// Every node it holds, directories above them included, in byte order (so a
        /// directory comes before what is in it).
        public var paths: [String]
        /// The opaque directories this layer marks opaque: only the lowest layer holding
        /// one may, or it would hide the layers below it.
        public var opaque: [String]

        /// For the image history.
        public var comment: String {
            switch packages.count {
            case 0: return "maintainer scripts and package database"
            case 1: return "package \(packages[0])"
            default: return "packages \(packages.joined(separator: " "))"
            }
        }
    }

    /// `claims`: by package, the upper paths it installed (its dpkg list, resolved through
    /// the image's symlinks, and its files in the dpkg database); paths the upper lacks are
    /// ignored. Layers in order: one per package by name (the largest `limit - 2` when there
    /// are more than `limit - 1`), then the rest shared, then the scripts' layer. A node two
    /// packages list goes to both layers (the same bytes), a directory to every layer that
    /// holds something below it, so each layer is a valid tree on its own.
    public static func layers(nodes: [Node], claims: [String: Set<String>], limit: Int) -> [Layer] {
        let byPath = Dictionary(nodes.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var owned: [String: [String]] = [:]
        for (package, paths) in claims {
            let present = paths.filter { byPath[$0] != nil }
            if !present.isEmpty { owned[package] = present.sorted(by: bytewise) }
        }
        var groups = grouped(Array(owned.keys), limit: limit) { package in
            owned[package, default: []].reduce(Int64(0)) { total, path in
                if case let .file(size) = byPath[path]?.kind { return total + size }
                return total
            }
        }.map { packages in (packages, closure(packages.flatMap { owned[$0] ?? [] }, byPath)) }
        let placed = groups.reduce(into: Set<String>()) { $0.formUnion($1.1) }
        let rest = nodes.map(\.path).filter { !placed.contains($0) }
        if !rest.isEmpty || groups.isEmpty { groups.append(([], closure(rest, byPath))) }
        var opaqueSeen = Set<String>()
        return groups.map { packages, paths in
            let sorted = paths.sorted(by: bytewise)
            let opaque = sorted.filter { byPath[$0]?.isOpaque == true && opaqueSeen.insert($0).inserted }
            return Layer(packages: packages, paths: sorted, opaque: opaque)
        }
    }

    /// The package groups, in layer order: each package alone while `limit` allows (the
    /// scripts' layer takes one), else the largest `limit - 2` alone (ties by name) and the
    /// rest together; with a limit of 2 or less, all together.
    static func grouped(_ packages: [String], limit: Int, size: (String) -> Int64) -> [[String]] {
        let names = packages.sorted(by: bytewise)
        if names.count + 1 <= limit { return names.map { [$0] } }
        guard limit > 2 else { return names.isEmpty ? [] : [names] }
        let ranked = names.map { ($0, size($0)) }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : bytewise($0.0, $1.0) }
        let alone = Set(ranked.prefix(limit - 2).map(\.0))
        return names.filter { alone.contains($0) }.map { [$0] } + [names.filter { !alone.contains($0) }]
    }

    /// `paths` with every directory above them.
    static func closure(_ paths: [String], _ byPath: [String: Node]) -> Set<String> {
        var result = Set<String>()
        for path in paths where result.insert(path).inserted {
            var parent = path[...]
            while let slash = parent.lastIndex(of: "/") {
                parent = parent[..<slash]
                guard byPath[String(parent)] != nil, result.insert(String(parent)).inserted else { break }
            }
        }
        return result
    }

    /// Byte order of the UTF-8 paths: a directory sorts before everything below it.
    static func bytewise(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}
