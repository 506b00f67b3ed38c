@testable import DevenvTestSupport
import Foundation
import Testing

/// `[limits]` in a project reaches its containers; the command line overrides it; a bad value
/// is a located manifest error.
@Suite(.serialized, .enabled(if: Requirement.root())) struct ProjectLimitsTests {
    static func manifest(_ limits: String) -> String {
        "[base]\nimage = \"busybox:it\"\n\n[limits]\n\(limits)\n"
    }

    static let shmSize = ["run", "--no-tty", "--", "sh", "-c", "df -k /dev/shm | tail -1 | awk '{print $2}'"]

    @Test func manifestLimitsApplyAndTheCommandLineWins() throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest("shm-size = \"8m\"\npids = 64"))
        let fromManifest = try project.devenv(Self.shmSize)
        #expect(fromManifest.status == 0, "\(fromManifest.stderr)")
        #expect(fromManifest.stdout == "8192\n")
        let overridden = try project.devenv(["run", "--no-tty", "--shm-size", "16m", "--"] + Self.shmSize.dropFirst(3))
        #expect(overridden.stdout == "16384\n", "\(overridden.stderr)")
    }

    @Test func aBadValueIsALocatedManifestError() throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: Self.manifest("pids = 64\nmemory = \"lots\""))
        for arguments in [["build"], Self.shmSize] {
            let result = try project.devenv(arguments)
            #expect(result.status == 65, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(".devenv/devenv.toml:6:10: error: [limits] memory: "), "\(result.stderr)")
        }
    }
}
