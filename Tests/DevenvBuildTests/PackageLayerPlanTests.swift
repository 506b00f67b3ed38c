import DevenvBuild
import Testing

/// `PackageLayerPlan`: which layer each node of a `packages` step's upper directory goes
/// to, and the cap on their number.
@Suite struct PackageLayerPlanTests {
    typealias Node = PackageLayerPlan.Node

    static func directories(_ paths: String...) -> [Node] { paths.map { Node(path: $0, kind: .directory) } }
    static func file(_ path: String, _ size: Int64 = 1) -> Node { Node(path: path, kind: .file(size: size)) }

    /// An upper directory after installing `packages`: each has a binary, docs and dpkg's
    /// files; the database and a maintainer script's file belong to none.
    static func upper(_ packages: [String], sizes: [String: Int64] = [:]) -> (nodes: [Node], claims: [String: Set<String>]) {
        var nodes = directories("etc", "usr", "usr/bin", "usr/share", "usr/share/doc", "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/info")
        nodes += [file("var/lib/dpkg/status"), file("etc/ld.so.cache"), Node(path: "etc/old.conf", kind: .other)]
        var claims: [String: Set<String>] = [:]
        for package in packages {
            nodes += [file("usr/bin/\(package)", sizes[package] ?? 10), Node(path: "usr/share/doc/\(package)", kind: .directory),
                      file("usr/share/doc/\(package)/copyright"), file("var/lib/dpkg/info/\(package).list"),
                      file("var/lib/dpkg/info/\(package).md5sums")]
            claims[package] = ["usr", "usr/bin", "usr/bin/\(package)", "usr/share", "usr/share/doc", "usr/share/doc/\(package)",
                               "usr/share/doc/\(package)/copyright", "var/lib/dpkg/info/\(package).list",
                               "var/lib/dpkg/info/\(package).md5sums", "usr/lib/not-in-the-upper"]
        }
        return (nodes, claims)
    }

    @Test func onePackageALayerInNameOrderAndTheScriptsLast() {
        let (nodes, claims) = Self.upper(["git", "curl", "make"])
        let layers = PackageLayerPlan.layers(nodes: nodes, claims: claims, limit: 40)
        #expect(layers.map(\.packages) == [["curl"], ["git"], ["make"], []])
        #expect(layers[0].paths == ["usr", "usr/bin", "usr/bin/curl", "usr/share", "usr/share/doc", "usr/share/doc/curl",
                                    "usr/share/doc/curl/copyright", "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/info",
                                    "var/lib/dpkg/info/curl.list", "var/lib/dpkg/info/curl.md5sums"])
        // What no package lists, with the directories above it; a path the upper lacks is nowhere.
        #expect(layers[3].paths == ["etc", "etc/ld.so.cache", "etc/old.conf", "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/status"])
        #expect(layers.map(\.comment) == ["package curl", "package git", "package make", "maintainer scripts and package database"])
        // Every node of the upper directory is in some layer.
        let placed = Set(layers.flatMap(\.paths))
        #expect(nodes.allSatisfy { placed.contains($0.path) })
        #expect(!placed.contains("usr/lib/not-in-the-upper"))
    }

    /// The property per-package layers exist for: another package changes the scripts'
    /// layer and adds its own, and leaves every other layer as it was.
    @Test func addingAPackageLeavesTheOthersLayersAlone() {
        let twenty = (1...20).map { "package\($0)" }
        let before = Self.upper(twenty)
        let after = Self.upper(twenty + ["added"])
        let old = PackageLayerPlan.layers(nodes: before.nodes, claims: before.claims, limit: 40)
        let new = PackageLayerPlan.layers(nodes: after.nodes, claims: after.claims, limit: 40)
        #expect(new.count == old.count + 1)
        for layer in old.dropLast() {
            #expect(new.contains(layer), "\(layer.packages)")
        }
    }

    @Test func aFileTwoPackagesListIsInBothLayers() {
        var (nodes, claims) = Self.upper(["a", "b"])
        nodes.append(Self.file("usr/bin/shared"))
        claims["a"]?.insert("usr/bin/shared")
        claims["b"]?.insert("usr/bin/shared")
        let layers = PackageLayerPlan.layers(nodes: nodes, claims: claims, limit: 40)
        #expect(layers[0].paths.contains("usr/bin/shared") && layers[1].paths.contains("usr/bin/shared"))
        #expect(!layers[2].paths.contains("usr/bin/shared"))
    }

    /// Only the lowest layer holding an opaque directory marks it: a higher one would hide
    /// what the layers below it put there.
    @Test func anOpaqueDirectoryIsMarkedOnceInTheLowestLayer() {
        var (nodes, claims) = Self.upper(["a", "b"])
        nodes = nodes.map { $0.path == "usr/share/doc" ? Node(path: $0.path, kind: .directory, isOpaque: true) : $0 }
        nodes.append(Node(path: "usr/share/doc/orphan", kind: .directory))
        let layers = PackageLayerPlan.layers(nodes: nodes, claims: claims, limit: 40)
        #expect(layers.map(\.opaque) == [["usr/share/doc"], [], []])
        #expect(layers[2].paths.contains("usr/share/doc/orphan") && layers[2].paths.contains("usr/share/doc"))
        claims["a"] = nil
        #expect(PackageLayerPlan.layers(nodes: nodes, claims: claims, limit: 40).map(\.opaque) == [["usr/share/doc"], []])
    }

    /// Over the cap the largest packages keep a layer each (ties by name) and the rest
    /// share one, below the scripts' layer; 2 shares everything, 1 is one layer.
    @Test func theCapKeepsTheLargestAlone() {
        let (nodes, claims) = Self.upper(["a", "b", "c", "d", "e"], sizes: ["a": 5, "b": 500, "c": 50, "d": 500, "e": 1])
        #expect(PackageLayerPlan.layers(nodes: nodes, claims: claims, limit: 6).map(\.packages) == [["a"], ["b"], ["c"], ["d"], ["e"], []])
        #expect(PackageLayerPlan.layers(nodes: nodes, claims: claims, limit: 5).map(\.packages) == [["b"], ["c"], ["d"], ["a", "e"], []])
        #expect(PackageLayerPlan.layers(nodes: nodes, claims: claims, limit: 3).map(\.packages) == [["b"], ["a", "c", "d", "e"], []])
        #expect(PackageLayerPlan.layers(nodes: nodes, claims: claims, limit: 2).map(\.packages) == [["a", "b", "c", "d", "e"], []])
        let shared = PackageLayerPlan.layers(nodes: nodes, claims: claims, limit: 3)[1]
        #expect(shared.comment == "packages a c d e")
        #expect(shared.paths.contains("usr/bin/e") && !shared.paths.contains("usr/bin/b"))
        for limit in 2...7 {
            #expect(PackageLayerPlan.layers(nodes: nodes, claims: claims, limit: limit).count <= limit)
        }
    }

    @Test func withoutPackagesEverythingIsOneLayer() {
        let (nodes, _) = Self.upper(["a"])
        let layers = PackageLayerPlan.layers(nodes: nodes, claims: [:], limit: 40)
        #expect(layers.count == 1 && layers[0].packages.isEmpty)
        #expect(layers[0].paths.count == nodes.count)
        #expect(PackageLayerPlan.layers(nodes: [], claims: [:], limit: 40).map(\.paths) == [[]])
    }
}
