@testable import DevenvTestSupport
import Testing

/// Bugs a test still exercises, with the parameters they break, so each affected test runs
/// and records the failure as expected. When the bug is fixed, `withKnownIssue` fails the
/// test with "known issue was not recorded", and the gate goes.
enum KnownIssue {
    /// Issue 12, ownership (the rootless-owners branch): rootless, what devenv itself writes
    /// into a step's layer (COPY/ADD files, WORKDIR directories, directories copied up from
    /// the image) records the user's host uid and gid (1001:1001) instead of the owners the
    /// container sees (0:0, `--chown`, the USER), so a later USER step cannot write there.
    static let rootlessLayerOwners: Comment = "issue 12 (rootless-owners): rootless layers record the host uid for files devenv writes itself"

    /// Runs `body`, expecting it to fail when `user` is rootless.
    static func rootlessLayerOwners(_ user: DevenvUser, _ body: () throws -> Void) throws {
        guard user == .rootless else { return try body() }
        withKnownIssue(rootlessLayerOwners) { try body() }
    }
}
