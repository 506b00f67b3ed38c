@testable import DevenvKit
import DevenvManifest
import DevenvRuntime
import DevenvSession
import Foundation
import Testing

/// `[shell] dotfiles`: checked where they are written, bound read-only below the container
/// user's home, a missing one a located warning, `--no-dotfiles` leaving them all out.
@Suite struct DotfilesTests {
    @Test func badEntriesAreLocated() throws {
        let source = "[base]\nimage = \"x\"\n[shell]\ndotfiles = [\"~/.bashrc\", \"/etc/passwd\", \"~\", \"~/./\", \"~/.config/../../etc\", \"~/.bashrc\", \"~/.config\", \"~/.config/nvim\"]\n"
        do {
            _ = try Manifest.parse(Array(source.utf8), path: ".devenv/devenv.toml")
            Issue.record("accepted bad dotfiles")
        } catch let error as ManifestError {
            let lines = error.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
            #expect(lines.contains("4:26: shell.dotfiles[2]: must be a path under your home directory, starting with '~/', found '/etc/passwd'"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("4:41: shell.dotfiles[3]: must be a path under your home directory") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("4:46: shell.dotfiles[4]: must name a file or directory under '~'") }, "\(lines)")
            #expect(lines.contains { $0.contains("shell.dotfiles[5]: must not contain '..'") }, "\(lines)")
            #expect(lines.contains { $0.contains("shell.dotfiles[6]: '~/.bashrc' is listed already as '~/.bashrc'") }, "\(lines)")
            #expect(lines.contains { $0.contains("shell.dotfiles[8]: '~/.config/nvim' overlaps as '~/.config'") }, "\(lines)")
            #expect(lines.count == 6, "\(lines)")
        }
    }

    /// The table form binds read-write (a credential store its tool rewrites).
    @Test func writableEntries() throws {
        let manifest = try Manifest.parse(Array("[base]\nimage = \"x\"\n[shell]\ndotfiles = [{ path = \"~/.config/gh\", writable = true }, { path = \"~/.npmrc\" }]\n".utf8),
                                          path: ".devenv/devenv.toml")
        #expect(manifest.shell.dotfiles.map(\.relativePath) == [".config/gh", ".npmrc"] && manifest.shell.dotfiles.map(\.writable) == [true, false])
        let source = "[base]\nimage = \"x\"\n[shell]\ndotfiles = [{ path = \"/etc\" }, { writable = true }, { path = \"~/a\", writeable = true }, { path = \"~/b\", writable = \"yes\" }]\n"
        let error = #expect(throws: ManifestError.self) { try Manifest.parse(Array(source.utf8), path: ".devenv/devenv.toml") }
        let lines = error?.diagnostics.map(\.message) ?? []
        #expect(lines.contains { $0.contains("shell.dotfiles[1]: must be a path under your home directory") }, "\(lines)")
        #expect(lines.contains { $0.contains("shell.dotfiles[2]: missing required key 'path'") }, "\(lines)")
        #expect(lines.contains { $0.contains("unknown key 'writeable'") && $0.contains("did you mean 'writable'?") }, "\(lines)")
        #expect(lines.contains { $0.contains("shell.dotfiles[4].writable: expected a boolean") }, "\(lines)")
    }

    @Test func entriesAreNormalized() throws {
        let manifest = try Manifest.parse(Array("[base]\nimage = \"x\"\n[shell]\ndotfiles = [\"~/.config//nvim/\", \"~/./.bashrc\"]\n".utf8), path: ".devenv/devenv.toml")
        #expect(manifest.shell.dotfiles.map(\.relativePath) == [".config/nvim", ".bashrc"])
        #expect(manifest.shell.dotfiles.map(\.written.value) == ["~/.config//nvim/", "~/./.bashrc"])
    }

    /// Present entries are read-only binds at the same place below the container user's home
    /// (root's here, `/root`); a missing one is left out with a warning at its line and column.
    @Test func presentEntriesAreBoundAndMissingOnesWarned() throws {
        let home = try SessionEnvironmentTests.Directory()
        try FileManager.default.createDirectory(atPath: "\(home.path)/.config/nvim", withIntermediateDirectories: true)
        try home.write(".bashrc", "alias ll='ls -l'\n")
        let project = try SessionPlannerTests.manifestProject("[base]\nimage = \"x\"\n[shell]\ndotfiles = [\"~/.bashrc\", \"~/.config/nvim\", \"~/.missing\"]\n")
        let host = SessionHost(identity: HostIdentity(uid: 0, gid: 0, name: "root"), currentDirectory: SessionPlannerTests.root, home: home.path, environment: [:])
        let plan = try SessionPlannerTests.plan(project, host: host)
        let binds = plan.spec.mounts.filter { $0.source.hasPrefix(home.path) }
        #expect(binds == [BindMount(source: "\(home.path)/.bashrc", destination: "/root/.bashrc", readOnly: true),
                          BindMount(source: "\(home.path)/.config/nvim", destination: "/root/.config/nvim", readOnly: true)])
        #expect(plan.warnings == [".devenv/devenv.toml:4:44: warning: [shell] dotfiles: '~/.missing' does not exist on this host; it is not bound"])

        var off = SessionOptions()
        off.dotfiles = false
        let without = try SessionPlannerTests.plan(project, options: off, host: host)
        #expect(!without.spec.mounts.contains { $0.source.hasPrefix(home.path) } && without.warnings.isEmpty)
    }

    /// A device node is not a dotfile (the bind would be nodev); a FIFO neither.
    @Test func onlyFilesDirectoriesAndSocketsAreBound() throws {
        let project = try SessionPlannerTests.manifestProject("[base]\nimage = \"x\"\n[shell]\ndotfiles = [\"~/null\"]\n")
        let host = SessionHost(identity: HostIdentity(uid: 0, gid: 0, name: "root"), currentDirectory: SessionPlannerTests.root, home: "/dev", environment: [:])
        #expect { try SessionPlannerTests.plan(project, host: host) } throws: { "\($0)".contains("'~/null' is a character device; only files, directories and sockets are bound") }
    }
}
