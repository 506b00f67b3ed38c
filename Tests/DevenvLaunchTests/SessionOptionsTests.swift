import DevenvLaunch
import DevenvRuntime
import DevenvSession
import Testing

/// Paths from the command line fail closed: `--mount-dir ""` used to mount the host's `/`.
struct SessionOptionsTests {
    @Test func anEmptyMountDirectoryIsAnError() throws {
        var options = SessionOptions()
        options.rootfs = "/tmp"
        options.mountDirectory = ""
        let error = try #require(throws: RuntimeError.self) {
            _ = try options.workspaceSession(lowerDirs: ["/tmp"], imageEnvironment: [], command: ["true"], defaultTerminal: false)
        }
        #expect(error.message.hasPrefix("--mount-dir '': resolve --mount-dir"), "\(error.message)")
        #expect(throws: RuntimeError.self) { try SessionOptions.absolute("", what: "--rootfs") }
        #expect(try SessionOptions.absolute("/x", what: "--rootfs") == "/x")
    }
}
