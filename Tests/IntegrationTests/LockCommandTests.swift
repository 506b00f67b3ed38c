@testable import DevenvTestSupport
import Foundation
import Testing

/// `.devenv/devenv.lock` end to end, as root and as the unprivileged test user: `--frozen`
/// names the step and line, the file, the Dockerfile that changed; `devenv lock` asks the
/// registry again and reports a moved tag; `lock --check` and `lock --diff` write nothing.
@Suite(.serialized, .enabled(if: Requirement.root(), "needs root (real containers, and to act as the test user)"), .timeLimit(.minutes(20)))
struct LockCommandTests {
    static let manifest = BuildCommandTests.manifest

    static func lock(_ project: ProjectFixture) throws -> String {
        try String(contentsOfFile: "\(project.root)/.devenv/devenv.lock", encoding: .utf8)
    }

    @Test(arguments: DevenvUser.allCases)
    func frozenNamesTheEditedStepAndTheChangedFile(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest, as: user)
        try project.write("payload.txt", "v1\n")
        let locked = try project.devenv(["lock"])
        #expect(locked.succeeded, "\(locked.stderr)")
        let text = try Self.lock(project)
        #expect(text.contains("version = 3"))
        #expect(text.contains("[[step]]\ndefinition = \"run echo a > /a\"\ndigest = \"sha256:"), "\(text)")
        #expect(text.contains("mode = \"0644\", path = \"payload.txt\" },"), "\(text)")
        #expect(try project.devenv(["build", "--frozen"]).succeeded)
        let current = try project.devenv(["lock", "--check"])
        #expect(current.succeeded && current.stdout == ".devenv/devenv.lock is current\n", "\(current.stderr)")

        // An edited run step: --frozen fails naming the step, its line and both definitions.
        try project.write(".devenv/devenv.toml", Self.manifest.replacingOccurrences(of: "echo a > /a", with: "echo b > /a"))
        let edited = try project.devenv(["build", "--frozen"])
        #expect(edited.status == 67, "\(edited.stderr)")
        #expect(edited.stderr.contains("step 1 (.devenv/devenv.toml:5): 'run echo a > /a' -> 'run echo b > /a'"), "\(edited.stderr)")
        let check = try project.devenv(["lock", "--check"])
        #expect(check.status == 67 && check.stderr.contains("step 1 (.devenv/devenv.toml:5)"), "\(check.stderr)")
        let diff = try project.devenv(["lock", "--diff"])
        #expect(diff.succeeded, "\(diff.stderr)")
        #expect(diff.stdout.hasPrefix("--- a/.devenv/devenv.lock\n+++ b/.devenv/devenv.lock\n@@ -7 +7 @@\n"), "\(diff.stdout)")
        #expect(diff.stdout.contains("\n-definition = \"run echo a > /a\"\n-digest = \"sha256:"), "\(diff.stdout)")
        #expect(diff.stdout.contains("\n+definition = \"run echo b > /a\"\n+digest = \"sha256:"), "\(diff.stdout)")
        #expect(try Self.lock(project) == text, "--check and --diff write nothing")

        // A changed copied file: named, with both digests.
        try project.write(".devenv/devenv.toml", Self.manifest)
        try project.write("payload.txt", "v2\n")
        let changed = try project.devenv(["build", "--frozen"])
        #expect(changed.status == 67, "\(changed.stderr)")
        #expect(changed.stderr.contains("step 3 (.devenv/devenv.toml:11): file payload.txt changed ("), "\(changed.stderr)")

        // A build without --frozen records the change; then --frozen passes again.
        #expect(try project.devenv(["build"]).succeeded)
        #expect(try Self.lock(project) != text)
        #expect(try project.devenv(["build", "--frozen"]).succeeded)
        #expect(try project.devenv(["lock", "--check"]).succeeded)
    }

    /// A tag moved in the registry: the locked environment does not move, `lock --check`
    /// says the lock is not current, `lock` names the move and records it.
    @Test(arguments: DevenvUser.allCases)
    func lockAsksTheRegistryAgainWhenATagMoved(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let registry = try TestRegistry()
        defer { registry.stop() }
        let name = "\(registry.authority)/lock/base:1"
        let project = try ProjectFixture(manifest: Self.manifest.replacingOccurrences(of: "busybox:it", with: name), as: user)
        try project.write("payload.txt", "v1\n")
        let tarball = try Fixtures.busyboxRootfs(in: project.scratch, name: "first")
        #expect(try project.devenv(["image", "import", tarball, "--tag", name]).succeeded)
        let pushed = try project.devenv(["push", name])
        try #require(pushed.succeeded, "\(pushed.stderr)")
        #expect(try project.devenv(["lock"]).succeeded)
        let before = try Self.lock(project)
        let first = String(try #require(before.components(separatedBy: "[base]\ndigest = \"").dropFirst().first?.prefix(71)))

        // Another machine pushes a different image under the same tag.
        let other = try DevenvRunner(user, scratch: project.scratch, store: project.scratch.file("other-store"))
        let moved = try Fixtures.busyboxRootfs(in: project.scratch, name: "moved")
        try project.write("extra.txt", "x")
        _ = try DevenvProcess.run("tar", ["-rf", moved, "-C", project.root, "extra.txt"])
        try other.own(moved)
        #expect(try other.devenv(["image", "import", moved, "--tag", name]).succeeded)
        let pushedAgain = try other.devenv(["push", name])
        try #require(pushedAgain.succeeded, "\(pushedAgain.stderr)")

        #expect(try project.devenv(["build", "--frozen"]).succeeded, "the locked environment does not move")
        let stale = try project.devenv(["lock", "--check"])
        #expect(stale.status == 67 && stale.stderr.contains("base \(name): moved \(first) -> sha256:"), "\(stale.stderr)")
        let relocked = try project.devenv(["lock"])
        #expect(relocked.succeeded && relocked.stdout.contains("base \(name): moved \(first) -> sha256:"), "\(relocked.stdout)\(relocked.stderr)")
        #expect(try Self.lock(project) != before)
        let check = try project.devenv(["lock", "--check"])
        #expect(check.succeeded, "\(check.stderr)")
        let extra = try project.devenv(["run", "--", "test", "-e", "/extra.txt"])
        #expect(extra.succeeded, "the new lock builds on the moved image: \(extra.stderr)")
    }
}
