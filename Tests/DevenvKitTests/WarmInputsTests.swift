import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import DevenvKit

/// What a warm record watches for a project: every copied entry and the directories that
/// hold them, the probes a nearer project would answer, git's inputs; nothing for the forms
/// it cannot watch.
@Suite struct WarmInputsTests {
    final class Tree {
        let root: String
        init() throws {
            root = NSTemporaryDirectory() + "devenv-warm-inputs-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: "\(root)/.devenv", withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        func write(_ relative: String, _ text: String = "") throws {
            let path = "\(root)/\(relative)"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        }

        func project(copying sources: [String]) throws -> Project {
            let list = sources.map { "\"\($0)\"" }.joined(separator: ", ")
            try write(".devenv/devenv.toml", "[base]\nimage = \"busybox:1\"\n\n[[step]]\ncopy = [\(list)]\nto = \"/x/\"\n")
            return try Project.load(root: root)
        }
    }

    @Test func copiedTreesAndLocatorProbesAreWatched() throws {
        let tree = try Tree()
        try tree.write("src/a/one.txt", "1")
        try FileManager.default.createDirectory(atPath: "\(tree.root)/src/empty", withIntermediateDirectories: true)
        try tree.write("sub/deeper/keep")
        let project = try tree.project(copying: ["src", "./file.txt"])
        let paths = try #require(WarmInputs.paths(project: project, directory: "\(tree.root)/sub/deeper", environment: ["HOME": "/nonexistent"]))
        let root = tree.root
        for expected in ["\(root)/.devenv/devenv.toml", "\(root)/.devenv/devenv.lock", "\(root)/src", "\(root)/src/a", "\(root)/src/a/one.txt",
                         "\(root)/src/empty", "\(root)/file.txt",
                         "\(root)/sub/deeper/.devenv/devenv.toml", "\(root)/sub/.devcontainer/devcontainer.json", "\(root)/sub/.devcontainer.json",
                         "\(root)/.git"] {
            #expect(paths.contains(expected), "\(expected) is not watched")
        }
        #expect(!paths.contains("\(root)/.devenv/.devcontainer.json"), "the project root itself is no probe")
    }

    /// A dotfile appearing, disappearing or pointing elsewhere changes the session's binds.
    @Test func dotfilesAreWatchedFromTheHomeDown() throws {
        let tree = try Tree()
        try tree.write("home/dots/init.vim")
        try FileManager.default.createDirectory(atPath: "\(tree.root)/home/.config", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(tree.root)/home/.config/nvim", withDestinationPath: "\(tree.root)/home/dots")
        try tree.write(".devenv/devenv.toml", "[base]\nimage = \"busybox:1\"\n[shell]\ngit_identity = false\ndotfiles = [\"~/.config/nvim\", \"~/.missing\"]\n")
        let home = "\(tree.root)/home"
        let paths = try #require(WarmInputs.paths(project: try Project.load(root: tree.root), directory: tree.root, environment: ["HOME": home]))
        let physical = try #require(realpath(home, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) })
        for expected in ["\(home)/.config", "\(home)/.config/nvim", "\(physical)/dots", "\(home)/.missing"] {
            #expect(paths.contains(expected), "\(expected) is not watched: \(paths)")
        }
    }

    /// A dangling symlink's missing target, and every hop of a chain, are watched: the target
    /// appearing or a hop pointing elsewhere changes the dotfile's bind (or its warning).
    @Test func everyHopOfADotfilesSymlinksIsWatched() throws {
        let tree = try Tree()
        let home = "\(tree.root)/home"
        try tree.write("home/dots/b")
        try FileManager.default.createSymbolicLink(atPath: "\(home)/.dangling", withDestinationPath: "dots/none/rc")
        try FileManager.default.createSymbolicLink(atPath: "\(home)/dots/a", withDestinationPath: "\(home)/dots/b")
        try FileManager.default.createSymbolicLink(atPath: "\(home)/.chained", withDestinationPath: "dots/../dots/a")
        let resolution = try #require(WarmInputs.resolution(of: ".dangling", in: home))
        #expect(resolution == ["\(home)/.dangling", "\(home)/dots", "\(home)/dots/none"])
        let chain = try #require(WarmInputs.resolution(of: ".chained", in: home))
        #expect(chain == ["\(home)/.chained", "\(home)/dots", "\(home)/dots", "\(home)/dots/a", "\(home)/dots", "\(home)/dots/b"])
        try FileManager.default.createSymbolicLink(atPath: "\(home)/.loop", withDestinationPath: ".loop")
        #expect(WarmInputs.resolution(of: ".loop", in: home) == nil)
    }

    @Test func gitInputsAreWatched() throws {
        let tree = try Tree()
        try tree.write("src/one.txt", "1")
        try tree.write(".git/HEAD", "ref: refs/heads/main\n")
        try tree.write(".git/config", "[core]\n\tbare = false\n\texcludesFile = ~/ignore-these\n")
        let project = try tree.project(copying: ["src"])
        let paths = try #require(WarmInputs.paths(project: project, directory: tree.root, environment: ["HOME": "/nonexistent"]))
        #expect(paths.contains("/nonexistent/ignore-these"), "core.excludesFile is not watched")
        let resolved = try #require(realpath(tree.root, nil))
        defer { free(resolved) }
        let git = String(cString: resolved) + "/.git"
        for name in ["HEAD", "index", "packed-refs", "config", "info/exclude", "refs/heads/main"] {
            #expect(paths.contains("\(git)/\(name)"), "\(name) is not watched")
        }
        #expect(paths.contains { $0.hasSuffix("/src/.gitignore") })
        #expect(paths.contains { $0.hasSuffix("/.gitignore") && !$0.contains("/src/") })
    }

    @Test func excludesFilesAreReadFromTheCoreSection() {
        #expect(WarmInputs.excludesFiles(in: "[core]\n  excludesFile = /etc/gitignore\n[user]\n  excludesfile = /not/this\n", home: nil) == ["/etc/gitignore"])
        #expect(WarmInputs.excludesFiles(in: "[Core]\nExcludesFile=~/x\n", home: "/h") == ["/h/x"])
        #expect(WarmInputs.excludesFiles(in: "[core]\nexcludesFile = \"/quoted path\"\n", home: nil) == nil)
        #expect(WarmInputs.excludesFiles(in: "[core]\nexcludesFile = relative\n", home: nil) == nil)
        #expect(WarmInputs.excludesFiles(in: "[includeIf \"gitdir:~/w/\"]\npath = x\n", home: nil) == nil)
    }

    @Test func formsThatReadFurtherFilesAreNotWatched() throws {
        let worktree = try Tree()
        try worktree.write(".git", "gitdir: /elsewhere/.git/worktrees/x\n")
        #expect(WarmInputs.paths(project: try worktree.project(copying: ["."]), directory: worktree.root, environment: [:]) == nil)

        let includes = try Tree()
        try includes.write(".git/HEAD", "ref: refs/heads/main\n")
        try includes.write(".git/config", "[include]\n\tpath = /somewhere/config\n")
        #expect(WarmInputs.paths(project: try includes.project(copying: ["."]), directory: includes.root, environment: [:]) == nil)

        let dockerfile = try Tree()
        try dockerfile.write(".devenv/devenv.toml", "[base]\ndockerfile = \"Dockerfile\"\n")
        #expect(WarmInputs.paths(project: try Project.load(root: dockerfile.root), directory: dockerfile.root, environment: [:]) == nil)
    }
}
