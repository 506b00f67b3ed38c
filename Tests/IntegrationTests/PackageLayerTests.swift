@testable import DevenvTestSupport
import Foundation
import Testing

/// A `packages` step on the bootstrapped Debian base makes one layer per installed package
/// and one for the package database, last; adding a package leaves the others' layers (their
/// digests) as they were, the image runs, the cap merges packages. As root and rootless.
/// Each user bootstraps its own base (20-60 s), so one test walks through everything.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("mmdebstrap")), .timeLimit(.minutes(20)))
struct PackageLayerTests {
    static func manifest(packages: [String], layers: Int? = nil) -> String {
        """
        [base]
        distro = "debian:bookworm"

        [[step]]
        packages = [\(packages.map { "\"\($0)\"" }.joined(separator: ", "))]
        \(layers.map { "layers = \($0)" } ?? "")
        """
    }

    /// The image's layers after the base, each with its history comment.
    static func stepLayers(_ project: DistroProject) throws -> [(comment: String, digest: String)] {
        let built = try project.devenv(["build", "--json"])
        try #require(built.succeeded, "\(built.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(built.stdout.utf8)) as? [String: Any], "\(built.stdout)")
        let inspected = try project.inspect(try #require(summary["image"] as? String))
        let layers = ((inspected["manifest"] as? [String: Any])?["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
        let history = ((inspected["config"] as? [String: Any])?["history"] as? [[String: Any]] ?? []).filter { $0["empty_layer"] as? Bool != true }
        try #require(history.count == layers.count, "\(history)")
        return zip(history, layers).filter { ($0.0["created_by"] as? String)?.hasPrefix("devenv: mmdebstrap") != true }
            .map { ($0.0["comment"] as? String ?? "", $0.1) }
    }

    @Test(arguments: DevenvUser.allCases)
    func onePackageALayer(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["mmdebstrap"])
        let project = try DistroProject(manifest: Self.manifest(packages: ["hello", "tree"]), label: "devenv-package-layers", as: user)
        let first = try Self.stepLayers(project)
        let comments = first.map(\.comment)
        #expect(comments.contains("package hello") && comments.contains("package tree"), "\(comments)")
        #expect(comments.last == "maintainer scripts and package database", "\(comments)")
        #expect(comments.dropLast().allSatisfy { $0.hasPrefix("package ") } && comments.dropLast() == comments.dropLast().sorted()[...], "\(comments)")

        let ran = try project.devenv(["run", "--", "sh", "-c", "hello && tree --version"])
        #expect(ran.succeeded && ran.stdout.contains("Hello, world!") && ran.stdout.contains("tree v"), "\(ran.stdout)\(ran.stderr)")

        // Unchanged: a cache hit, nothing runs.
        let warm = try project.devenv(["build", "--json"])
        #expect(warm.succeeded && !warm.stdout.contains("\"cached\" : false"), "\(warm.stdout)\(warm.stderr)")

        // One more package: every other package's layer is the same blob.
        try project.write(".devenv/devenv.toml", Self.manifest(packages: ["hello", "tree", "bc"]))
        let second = try Self.stepLayers(project)
        let before = Dictionary(first.map { ($0.comment, $0.digest) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(second.map { ($0.comment, $0.digest) }, uniquingKeysWith: { first, _ in first })
        #expect(after["package bc"] != nil, "\(second.map(\.comment))")
        for (comment, digest) in before where comment.hasPrefix("package ") {
            #expect(after[comment] == digest, "\(comment) changed")
        }
        let bc = try project.devenv(["run", "--", "sh", "-c", "echo 6*7 | bc && hello"])
        #expect(bc.succeeded && bc.stdout.hasPrefix("42\n"), "\(bc.stdout)\(bc.stderr)")

        // The cap: two layers, all packages together below the database's.
        try project.write(".devenv/devenv.toml", Self.manifest(packages: ["hello", "tree", "bc"], layers: 2))
        let capped = try Self.stepLayers(project)
        #expect(capped.count == 2, "\(capped.map(\.comment))")
        #expect(capped.first?.comment.hasPrefix("packages ") == true && capped.first?.comment.contains("hello") == true, "\(capped.map(\.comment))")
        let cappedRun = try project.devenv(["run", "--", "sh", "-c", "hello && tree --version && echo 1+1 | bc"])
        #expect(cappedRun.succeeded && cappedRun.stdout.hasSuffix("2\n"), "\(cappedRun.stdout)\(cappedRun.stderr)")
        try project.write(".devenv/devenv.toml", Self.manifest(packages: ["hello", "tree", "bc"], layers: 1))
        #expect(try Self.stepLayers(project).map(\.comment) == [""])
    }
}
