import Foundation

/// Executables SwiftPM built for this test run: they sit in the build directory that holds
/// the running test bundle (`.build/debug`).
public enum BuildProducts {
    /// `name` from that directory; `$DEVENV_BINARY` overrides `devenv`.
    public static func executable(_ name: String = "devenv") throws -> String {
        if name == "devenv", let path = ProcessInfo.processInfo.environment["DEVENV_BINARY"] { return path }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        throw TestFailure("no \(name) was built beside the tests: run `swift build` first")
    }
}
