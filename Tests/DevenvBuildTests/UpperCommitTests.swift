import DevenvBuild
import DevenvTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program and returns its exit status.
enum Program {
    static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// `UpperCommit.removeStubs` on plain directories laid out the way a step's overlay leaves
/// them: what the runtime created goes, whatever the step touched stays.
@Suite struct UpperCommitTests {
    final class Tree {
        let base: String
        var lower: String { base + "/lower" }
        var upper: String { base + "/upper" }

        init() throws {
            var template = Array("/tmp/devenv-upper-commit-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
            base = String(cString: made)
            try directory("lower/etc")
            try directory("lower/tmp", mode: 0o1777)
            try file("lower/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
            try directory("upper")
        }

        deinit { try? FileManager.default.removeItem(atPath: base) }

        func directory(_ path: String, mode: mode_t = 0o755) throws {
            try FileManager.default.createDirectory(atPath: base + "/" + path, withIntermediateDirectories: true)
            chmod(base + "/" + path, mode)
        }

        func file(_ path: String, _ contents: String = "") throws {
            try Data(contents.utf8).write(to: URL(fileURLWithPath: base + "/" + path))
        }

        /// Paths below the upper directory, sorted.
        func upperEntries() -> [String] {
            (FileManager.default.enumerator(atPath: upper)?.allObjects as? [String] ?? []).sorted()
        }

        func commit(mountPoints: [String], generated: [RuntimeFiles.Generated] = []) throws {
            try UpperCommit(upperDir: upper, lowerDirs: [lower], runtimeFiles: RuntimeFiles(mountPoints: mountPoints, generated: generated)).removeStubs()
        }
    }

    static let mountPoints = ["/proc", "/dev", "/sys", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/var/cache/thing", "/root"]

    @Test func theRuntimesStubsGoAndTheStepsChangesStay() throws {
        let tree = try Tree()
        // What the runtime made: mount points, and /etc copied up to hold three of them.
        for path in ["upper/proc", "upper/dev", "upper/sys", "upper/root", "upper/etc", "upper/var/cache/thing"] { try tree.directory(path) }
        for name in ["hostname", "hosts", "resolv.conf"] { try tree.file("upper/etc/" + name) }
        // What the step made: a file beside a stub, in a directory the runtime created.
        try tree.directory("upper/var/cache/own")
        try tree.file("upper/var/cache/own/f", "x")
        try tree.file("upper/made")
        try tree.commit(mountPoints: Self.mountPoints)
        #expect(tree.upperEntries() == ["made", "var", "var/cache", "var/cache/own", "var/cache/own/f"])
    }

    @Test func stubsTheStepChangedStay() throws {
        let tree = try Tree()
        try tree.directory("upper/etc")
        try tree.file("upper/etc/hosts", "127.0.0.1 mine\n")     // not empty: the step's own file
        try tree.directory("upper/root")
        try tree.file("upper/root/.profile", "x")                  // the step filled the home directory
        try tree.commit(mountPoints: Self.mountPoints)
        #expect(tree.upperEntries() == ["etc", "etc/hosts", "root", "root/.profile"])
    }

    @Test func aCopiedUpDirectoryTheStepChangedStays() throws {
        let tree = try Tree()
        try tree.directory("upper/etc", mode: 0o700)                // the step ran chmod 700 /etc
        try tree.file("upper/etc/hosts")
        try tree.directory("upper/tmp", mode: 0o1777)
        try tree.file("upper/tmp/.keep")                            // not a stub: stays, and so does tmp
        try tree.commit(mountPoints: Self.mountPoints + ["/tmp/.keep-not"])
        #expect(tree.upperEntries() == ["etc", "tmp", "tmp/.keep"])
    }

    @Test func aStepThatReplacedADirectoryWithASymlinkIsNotFollowed() throws {
        let tree = try Tree()
        try tree.directory("elsewhere")
        try tree.file("elsewhere/hosts")
        #expect(symlink(tree.base + "/elsewhere", tree.upper + "/etc") == 0)
        try tree.commit(mountPoints: Self.mountPoints)
        #expect(FileManager.default.fileExists(atPath: tree.base + "/elsewhere/hosts"))
        #expect(tree.upperEntries() == ["etc"])
    }

    @Test func mountPointsResolveThroughTheImagesSymlinks() throws {
        let tree = try Tree()
        #expect(symlink("../run/resolve/stub-resolv.conf", tree.lower + "/etc/resolv.conf") == 0)
        try tree.directory("lower/run")
        // The runtime followed the image's symlink and created the target.
        try tree.directory("upper/run/resolve")
        try tree.file("upper/run/resolve/stub-resolv.conf")
        try tree.commit(mountPoints: ["/etc/resolv.conf"])
        #expect(tree.upperEntries() == [])
    }

    @Test func generatedAccountsGoOnlyWhileTheyAreTheRuntimes() throws {
        let generated = "root:x:0:0:root:/root:/bin/sh\nu:x:1500:1500::/:/bin/sh\n"
        let tree = try Tree()
        try tree.directory("upper/etc")
        try tree.file("upper/etc/passwd", generated)
        try tree.commit(mountPoints: [], generated: [RuntimeFiles.Generated(path: "/etc/passwd", contents: Array(generated.utf8))])
        #expect(tree.upperEntries() == [])

        let edited = try Tree()
        try edited.directory("upper/etc")
        try edited.file("upper/etc/passwd", generated + "extra:x:7:7::/:/bin/sh\n")
        try edited.commit(mountPoints: [], generated: [RuntimeFiles.Generated(path: "/etc/passwd", contents: Array(generated.utf8))])
        #expect(edited.upperEntries() == ["etc", "etc/passwd"])
    }

    /// overlay marks a directory opaque when the step removed and re-created it: it hides
    /// the image's contents, so it stays even when empty.
    @Test(.enabled(if: Requirement.root(), "needs root for trusted.overlay.* xattrs"))
    func anOpaqueDirectoryStays() throws {
        let tree = try Tree()
        try tree.directory("upper/etc")
        let marked = try Program.run("/usr/bin/setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", tree.upper + "/etc"])
        #expect(marked == 0)
        try tree.file("upper/etc/hosts")
        try tree.commit(mountPoints: Self.mountPoints)
        #expect(tree.upperEntries() == ["etc"])
    }
}
