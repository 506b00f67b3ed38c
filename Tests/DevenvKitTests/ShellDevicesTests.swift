@testable import DevenvKit
import DevenvManifest
import DevenvRuntime
import DevenvSession
import Testing

/// `[shell] devices` reach every session of the project, before `--device`'s, and bad ones
/// are refused at their line.
@Suite struct ShellDevicesTests {
    @Test func manifestDevicesComeBeforeTheCommandLines() throws {
        let project = try SessionPlannerTests.manifestProject("""
            [base]
            image = "busybox:latest"

            [shell]
            devices = ["/dev/fuse", "/dev/null:/dev/quiet:rw"]
            """)
        var options = SessionOptions()
        options.devices = ["/dev/zero"]
        let spec = try SessionPlannerTests.plan(project, options: options).spec
        #expect(spec.devices.map(\.source) == ["/dev/fuse", "/dev/null", "/dev/zero"])
        #expect(spec.devices.map(\.destination) == ["/dev/fuse", "/dev/quiet", "/dev/zero"])
    }

    @Test func badDevicesAreLocated() throws {
        let source = "[base]\nimage = \"x\"\n[shell]\ndevices = [\"fuse\", \"/dev/fuse:r\", \"/dev/../etc/passwd\", \"nvidia.com/gpu=all\"]\n"
        do {
            _ = try Manifest.parse(Array(source.utf8), path: ".devenv/devenv.toml")
            Issue.record("accepted bad devices")
        } catch let error as ManifestError {
            let lines = error.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
            #expect(lines.contains { $0.hasPrefix("4:12: shell.devices: expected '/dev/HOST[:/dev/CONTAINER][:rwm]' or a CDI device name") }, "\(lines)")
            #expect(lines.contains { $0.contains("device permissions must include 'r' and 'w'") }, "\(lines)")
            #expect(lines.contains { $0.contains("found '/dev/../etc/passwd'") }, "\(lines)")
            #expect(lines.count == 3, "the CDI name is fine: \(lines)")
        }
    }
}
