@testable import DevenvTestSupport
import Foundation
import Testing

/// Issue 17, progress a person can read, on a real (pseudo-)terminal 45 columns wide.
@Suite(.serialized) struct ProgressTerminalTests {
    /// Today one pull at 45 columns printed the same layer line 90 times: lines wider than
    /// the terminal wrapped and each redraw went up too few rows.
    @Test(.enabled(if: Requirement.rootAndPrograms("docker-registry")), arguments: DevenvUser.allCases)
    func aPullAtFortyFiveColumnsLeavesOneSummaryAndNoStaleLayerLines(_ user: DevenvUser) throws {
        try Requirement.require(programs: ["docker-registry"])
        let registry = try TestRegistry()
        defer { registry.stop() }
        let scratch = try Scratch("devenv-progress-pull")
        let source = scratch.file("source")
        let name = "\(registry.authority)/progress/busybox:1"
        let tarball = try Fixtures.busyboxRootfs(in: scratch)
        #expect(try DevenvProcess.devenv(["image", "import", tarball, "--tag", name], store: source).succeeded)
        #expect(try DevenvProcess.devenv(["push", name], store: source).succeeded)

        let puller = try DevenvRunner(user, scratch: scratch, store: scratch.file("store"))
        let (program, line) = try puller.command(["pull", name], environment: ["NO_COLOR": "1"])
        let pulled = try PseudoTerminal.run(program, line, columns: 45)
        #expect(pulled.status == 0, "\(pulled.raw)")
        let screen = pulled.screen.filter { !$0.isEmpty }
        // The summary (which may wrap: it is printed for good, not redrawn) and nothing else.
        #expect(screen.joined().hasPrefix("pulled 2 blobs ("), "\(screen)")
        #expect(!screen.contains { $0.contains(" / ") || $0.contains("waiting") || $0.contains("unpacking") },
                "nothing left of the layer lines: \(screen)")
        #expect(screen.count <= 2, "\(screen)")
        #expect(!pulled.raw.contains("\u{1b}[1m"), "NO_COLOR: no bold")
    }

    /// The step's header stands on its own line, and the step's output under it (today the
    /// output ran on after `[1/1] run …`).
    @Test(.enabled(if: Requirement.root()), arguments: DevenvUser.allCases)
    func aStepHeaderIsItsOwnLineBeforeTheStepOutput(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let project = try ProjectFixture(manifest: """
        [base]
        image = "busybox:it"

        [[step]]
        run = "echo step-output"
        """, as: user)
        let (program, line) = try project.runner.command(["build"], environment: ["TERM": "xterm", "NO_COLOR": ""])
        let built = try PseudoTerminal.run(program, line, columns: 45, directory: project.root)
        #expect(built.status == 0, "\(built.raw)")
        let screen = built.screen
        let header = try #require(screen.firstIndex(of: "[1/1] run echo step-output"), "\(screen)")
        #expect(screen.count > header + 1 && screen[header + 1] == "step-output", "\(screen)")
        #expect(screen.contains { $0.hasPrefix("step 1/1 .devenv/devenv.toml:5: run ech") }, "the result with its time: \(screen)")
        #expect(built.raw.contains("\u{1b}[1m[1/1] run echo step-output\u{1b}[0m"), "bold on a terminal")
        #expect(!built.stdout.isEmpty)

        // No terminal: plain lines, header, output, result.
        try project.write(".devenv/devenv.toml", """
        [base]
        image = "busybox:it"

        [[step]]
        run = "echo plain-output"
        """)
        let plain = try project.devenv(["build", "--progress", "plain"])
        let lines = plain.stderr.split(separator: "\n").map(String.init)
        let plainHeader = try #require(lines.firstIndex(of: "[1/1] run echo plain-output"), "\(lines)")
        #expect(lines[plainHeader + 1] == "plain-output")
        #expect(lines[plainHeader + 2].hasPrefix("step 1/1 .devenv/devenv.toml:5: run echo plain-output: rebuilt ("))

        let json = try project.devenv(["build", "--progress", "json", "--no-cache"])
        let events = json.stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.compactMap { $0["event"] as? String }.contains("step-running"), "\(json.stderr)")
        let quiet = try project.devenv(["build", "--quiet", "--no-cache"])
        #expect(quiet.succeeded && !quiet.stderr.contains("step 1/1"), "\(quiet.stderr)")
    }
}
