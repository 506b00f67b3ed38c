import DevenvArchive
import DevenvBuild
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `UpperSplit` on plain directories laid out the way a `packages` step's overlay leaves
/// them, written as layers: each package's layer is the same bytes whatever else the step
/// installed. Needs no privileges (the owners are the caller's).
@Suite struct UpperSplitTests {
    final class Step {
        let base: String
        var lower: String { base + "/lower" }
        var upper: String { base + "/upper" }
        var parts: String { base + "/parts" }

        /// The image below: usrmerged (`bin -> usr/bin`), dpkg's database.
        init() throws {
            var template = Array("/tmp/devenv-upper-split-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
            base = String(cString: made)
            for directory in ["lower/usr/bin", "lower/var/lib/dpkg/info", "lower/etc", "upper/var/lib/dpkg/info", "upper/usr/bin", "upper/etc", "parts"] {
                try FileManager.default.createDirectory(atPath: "\(base)/\(directory)", withIntermediateDirectories: true)
            }
            try FileManager.default.createSymbolicLink(atPath: "\(lower)/bin", withDestinationPath: "usr/bin")
        }

        deinit { try? FileManager.default.removeItem(atPath: base) }

        func write(_ path: String, _ contents: String, mode: mode_t = 0o644) throws {
            let full = "\(upper)/\(path)"
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: URL(fileURLWithPath: full))
            chmod(full, mode)
        }

        /// What dpkg leaves for a package: its files (`/bin/NAME` is in usr/bin, through the
        /// image's symlink), its docs, its list and md5sums.
        func install(_ package: String) throws {
            try write("usr/bin/\(package)", "#!/bin/sh\necho \(package)\n", mode: 0o755)
            try write("usr/share/doc/\(package)/copyright", "\(package)'s licence\n")
            try write("var/lib/dpkg/info/\(package).list", "/.\n/bin\n/bin/\(package)\n/usr\n/usr/share\n/usr/share/doc\n/usr/share/doc/\(package)\n/usr/share/doc/\(package)/copyright\n")
            try write("var/lib/dpkg/info/\(package).md5sums", "0123  bin/\(package)\n")
        }

        /// The split's layers, by comment, as layer digests.
        func split(limit: Int = 40) throws -> [(comment: String, digest: String, directory: String)] {
            let commit = UpperCommit(upperDir: upper, lowerDirs: [lower], runtimeFiles: RuntimeFiles())
            let parts = try #require(try UpperSplit(commit: commit, partsDirectory: parts, limit: limit).run())
            return try parts.map { part in
                var options = LayerWriteOptions()
                options.clampMTime = 0
                let blob = try LayerWriter.write(directory: part.directory, to: "\(part.directory).layer", options: options)
                return (part.comment, blob.digest.description, part.directory)
            }
        }
    }

    static func files(_ directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
    }

    @Test func eachPackageGetsItsLayerAndTheDatabaseTheLast() throws {
        let step = try Step()
        for package in ["hello", "sl"] { try step.install(package) }
        try step.write("var/lib/dpkg/status", "Package: hello\n\nPackage: sl\n")
        try step.write("etc/ld.so.cache", "cache")
        let layers = try step.split()
        #expect(layers.map(\.comment) == ["package hello", "package sl", "maintainer scripts and package database"])
        #expect(Self.files(layers[0].directory) == ["usr", "usr/bin", "usr/bin/hello", "usr/share", "usr/share/doc", "usr/share/doc/hello",
                                                    "usr/share/doc/hello/copyright", "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/info",
                                                    "var/lib/dpkg/info/hello.list", "var/lib/dpkg/info/hello.md5sums"])
        #expect(Self.files(layers[2].directory) == ["etc", "etc/ld.so.cache", "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/status"])
        // Linked, not copied; mode kept.
        var original = stat(), linked = stat()
        #expect(lstat("\(step.upper)/usr/bin/hello", &original) == 0 && lstat("\(layers[0].directory)/usr/bin/hello", &linked) == 0)
        #expect(original.st_ino == linked.st_ino && linked.st_mode & 0o7777 == 0o755)
    }

    @Test func addingAPackageLeavesTheOtherLayersByteIdentical() throws {
        let packages = (1...20).map { "tool\($0)" }
        let before = try Step()
        for package in packages { try before.install(package) }
        try before.write("var/lib/dpkg/status", packages.map { "Package: \($0)\n" }.joined(separator: "\n"))
        let after = try Step()
        for package in packages + ["added"] { try after.install(package) }
        try after.write("var/lib/dpkg/status", (packages + ["added"]).map { "Package: \($0)\n" }.joined(separator: "\n"))

        let old = try before.split(), new = try after.split()
        #expect(old.count == 21 && new.count == 22)
        let newDigests = Dictionary(new.map { ($0.comment, $0.digest) }, uniquingKeysWith: { first, _ in first })
        for layer in old.dropLast() {
            #expect(newDigests[layer.comment] == layer.digest, "\(layer.comment)")
        }
        #expect(newDigests["package added"] != nil)
        #expect(new.last?.digest != old.last?.digest)
    }

    /// A deletion (an overlay whiteout) belongs to no package: the scripts' layer carries it.
    @Test func aWhiteoutGoesToTheScriptsLayer() throws {
        let step = try Step()
        try step.install("hello")
        guard mknod("\(step.upper)/etc/removed.conf", S_IFCHR | 0o000, 0) == 0 else {
            Issue.record("mknod of a whiteout: errno \(errno) (Linux 5.8+ allows it unprivileged)")
            return
        }
        let layers = try step.split()
        #expect(layers.count == 2)
        var info = stat()
        #expect(lstat("\(layers[1].directory)/etc/removed.conf", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
        #expect(!FileManager.default.fileExists(atPath: "\(layers[0].directory)/etc"))
    }

    /// Without a dpkg list (an apk or dnf image) or with a limit of 1 the step is one layer.
    @Test func nothingToSplit() throws {
        let step = try Step()
        try step.write("usr/bin/tool", "x")
        let commit = UpperCommit(upperDir: step.upper, lowerDirs: [step.lower], runtimeFiles: RuntimeFiles())
        #expect(try UpperSplit(commit: commit, partsDirectory: step.parts, limit: 40).run() == nil)
        try step.install("hello")
        #expect(try UpperSplit(commit: commit, partsDirectory: step.parts, limit: 1).run() == nil)
        #expect(Self.files(step.parts).isEmpty)
    }
}
