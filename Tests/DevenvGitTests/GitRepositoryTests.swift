import Foundation
import Testing
@testable import DevenvGit

@Test func discoverOutsideARepositoryReturnsNil() throws {
    let fixture = try GitFixture()
    #expect(try GitRepository.discover(from: fixture.root) == nil)
}

@Test func discoverFindsTheRootFromASubdirectory() throws {
    let fixture = try GitFixture.committed(["src/deep/main.c"])
    let repository = try #require(try GitRepository.discover(from: fixture.root + "/src/deep"))
    #expect(repository.workdir == fixture.root)
}

@Test func discoverFromANonexistentPathFails() throws {
    let fixture = try GitFixture()
    let error = try capture(GitError.self) { try GitRepository.discover(from: fixture.root + "/missing") }
    #expect(error.description == "open repository '\(fixture.root)/missing': no such file or directory (code -1)")
}

@Test func bareRepositoryIsAnError() throws {
    let fixture = try GitFixture()
    try fixture.git("init", "-q", "--bare")
    let error = try capture(GitError.self) { try GitRepository.discover(from: fixture.root) }
    #expect(error.description == "open repository '\(fixture.root)': the repository is bare and has no working tree (code -1)")
}

@Test func unbornBranchHasNoHeadCommit() throws {
    let fixture = try GitFixture()
    try fixture.git("init", "-q", "-b", "main")
    try fixture.write("a.txt")
    let repository = try #require(try GitRepository.discover(from: fixture.root))
    #expect(try repository.headCommit == nil)
    #expect(try repository.isDirty == false)
    #expect(try repository.trackedAndUnignoredFiles() == ["a.txt"])
    try fixture.git("add", "a.txt")
    #expect(try repository.isDirty == true)  // staged in a repository without commits
}

@Test func headCommitMatchesGit() throws {
    let fixture = try GitFixture.committed(["a.txt"])
    let repository = try #require(try GitRepository.discover(from: fixture.root))
    let expected = try fixture.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(try repository.headCommit == expected)
    #expect(expected.count == 40)

    try fixture.write("b.txt")
    try fixture.git("add", "b.txt")
    try fixture.git("commit", "-q", "-m", "second")
    try fixture.git("checkout", "-q", "--detach", "HEAD~1")
    #expect(try repository.headCommit == expected)  // detached HEAD
}

@Test func dirtyMeansTrackedChangesOnly() throws {
    let fixture = try GitFixture.committed(["a.txt", "b.txt"])
    let repository = try #require(try GitRepository.discover(from: fixture.root))
    #expect(try repository.isDirty == false)
    try fixture.write("untracked.txt")
    #expect(try repository.isDirty == false)
    try fixture.write("a.txt", "changed\n")
    #expect(try repository.isDirty == true)
    try fixture.git("checkout", "-q", "--", "a.txt")
    #expect(try repository.isDirty == false)
    try fixture.remove("b.txt")
    #expect(try repository.isDirty == true)
    try fixture.git("checkout", "-q", "--", "b.txt")
    try fixture.write("a.txt", "staged\n")
    try fixture.git("add", "a.txt")
    #expect(try repository.isDirty == true)
}

@Test func ignoredFiles() throws {
    let fixture = try GitFixture.committed([".gitignore", "src/main.c"])
    try fixture.write(".gitignore", "*.log\n!keep.log\nbuild/\n")
    try fixture.write("x.log")
    try fixture.write("keep.log")
    try fixture.write("build/out.o")
    try fixture.write("forced.log")
    try fixture.git("add", "-f", "forced.log")
    try fixture.mkdir(".git/info")
    try Data("secret-*\n".utf8).write(to: URL(fileURLWithPath: fixture.root + "/.git/info/exclude"))
    let repository = try #require(try GitRepository.discover(from: fixture.root))
    #expect(try repository.isIgnored(path: "x.log"))
    #expect(try repository.isIgnored(path: "sub/dir/y.log"))
    #expect(try !repository.isIgnored(path: "keep.log"))
    #expect(try repository.isIgnored(path: "build"))
    #expect(try repository.isIgnored(path: "build/"))
    #expect(try repository.isIgnored(path: "build/out.o"))
    #expect(try repository.isIgnored(path: "secret-key"))
    #expect(try !repository.isIgnored(path: "src/main.c"))
    #expect(try !repository.isIgnored(path: "src"))
    #expect(try !repository.isIgnored(path: "forced.log"))  // tracked, as `git check-ignore` says
    try fixture.write("build/kept.c")
    try fixture.git("add", "-f", "build/kept.c")
    #expect(try !repository.isIgnored(path: "build"))  // holds a tracked file
    #expect(try !repository.isIgnored(path: "build/"))
    #expect(try !repository.isIgnored(path: "build/kept.c"))
    #expect(try repository.isIgnored(path: "build/out.o"))
    #expect(try fixture.git("check-ignore", "build/out.o") == "build/out.o\n")
    #expect(try repository.isIgnored(path: fixture.root + "/x.log"))  // absolute inside the tree
    #expect(try !repository.isIgnored(path: "./src/main.c"))
    #expect(throws: GitError.self) { try repository.isIgnored(path: "../outside.log") }
    #expect(throws: GitError.self) { try repository.isIgnored(path: "/etc/passwd") }
}

@Test func filesMatchGitLsFiles() throws {
    let fixture = try GitFixture.committed(["tracked.txt", "src/a.c", "src/sub/b.c", "my file.txt", "ünïcødé/日本.txt", "-rf", "a,b:c", "new\nline.txt", ".gitignore"])
    try fixture.write(".gitignore", "*.o\nignored-dir/\n")
    try fixture.write("untracked.txt")
    try fixture.write("src/untracked dir/c.c")
    try fixture.write("src/ignored.o")
    try fixture.write("ignored-dir/x.txt")
    try fixture.write("empty-dir-file/only.txt")
    try fixture.mkdir("really-empty")
    let repository = try #require(try GitRepository.discover(from: fixture.root + "/src"))
    let files = try repository.trackedAndUnignoredFiles()
    #expect(files == (try fixture.lsFiles("-co", "--exclude-standard")))
    #expect(files.contains("new\nline.txt"))
    #expect(files.contains("ünïcødé/日本.txt"))
    #expect(!files.contains("src/ignored.o"))
    #expect(!files.contains("ignored-dir/x.txt"))
}

@Test func deletedTrackedFilesAreNotListed() throws {
    let fixture = try GitFixture.committed(["keep.txt", "gone.txt"])
    try fixture.remove("gone.txt")
    let repository = try #require(try GitRepository.discover(from: fixture.root))
    #expect(try repository.trackedAndUnignoredFiles() == ["keep.txt"])
    #expect(try fixture.lsFiles("-co", "--exclude-standard") == ["gone.txt", "keep.txt"])
}

@Test func filesUnderADirectory() throws {
    let fixture = try GitFixture.committed(["src/a.c", "src/sub/b.c", "srcfile.txt", "[abc]/x.txt", "a/y.txt", "b"])
    try fixture.write("src/new.c")
    try fixture.write("[abc]/new.txt")
    let repository = try #require(try GitRepository.discover(from: fixture.root))
    #expect(try repository.trackedAndUnignoredFiles(under: "src") == ["src/a.c", "src/new.c", "src/sub/b.c"])
    #expect(try repository.trackedAndUnignoredFiles(under: "./src/") == ["src/a.c", "src/new.c", "src/sub/b.c"])
    #expect(try repository.trackedAndUnignoredFiles(under: fixture.root + "/src/sub") == ["src/sub/b.c"])
    #expect(try repository.trackedAndUnignoredFiles(under: "[abc]") == ["[abc]/new.txt", "[abc]/x.txt"])
    #expect(try repository.trackedAndUnignoredFiles(under: "srcfile.txt") == ["srcfile.txt"])
    #expect(try repository.trackedAndUnignoredFiles(under: "nothing-here") == [])
    #expect(try repository.trackedAndUnignoredFiles(under: ".") == (try fixture.lsFiles("-co", "--exclude-standard")))
    #expect(throws: GitError.self) { try repository.trackedAndUnignoredFiles(under: "src/../..") }
}

@Test func worktreeIsItsOwnWorkingTree() throws {
    let fixture = try GitFixture.committed(["a.txt", "dir/b.txt"])
    let worktree = fixture.base + "/wt ünï"
    try fixture.git("worktree", "add", "-q", "-b", "feature", worktree)
    try Data("wt\n".utf8).write(to: URL(fileURLWithPath: worktree + "/only-in-wt.txt"))
    try fixture.git("add", "only-in-wt.txt", in: worktree)
    try fixture.git("commit", "-q", "-m", "wt", in: worktree)

    let repository = try #require(try GitRepository.discover(from: worktree + "/dir"))
    #expect(repository.workdir == worktree)
    let worktreeHead = try fixture.git("rev-parse", "HEAD", in: worktree).trimmingCharacters(in: .whitespacesAndNewlines)
    let mainHead = try fixture.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(try repository.headCommit == worktreeHead)
    #expect(worktreeHead != mainHead)
    #expect(try repository.trackedAndUnignoredFiles() == ["a.txt", "dir/b.txt", "only-in-wt.txt"])
    #expect(try repository.isDirty == false)
    try Data("changed\n".utf8).write(to: URL(fileURLWithPath: worktree + "/a.txt"))
    #expect(try repository.isDirty == true)
    let main = try #require(try GitRepository.discover(from: fixture.root))
    #expect(try main.isDirty == false)
    #expect(try main.headCommit == mainHead)
}

@Test func separateGitDirectoryFile() throws {
    let fixture = try GitFixture()
    try fixture.git("init", "-q", "-b", "main", "--separate-git-dir", fixture.base + "/elsewhere.git")
    let dotGit = try String(contentsOfFile: fixture.root + "/.git", encoding: .utf8)
    #expect(dotGit.hasPrefix("gitdir: "))
    try fixture.write("f.txt")
    try fixture.git("add", "f.txt")
    try fixture.git("commit", "-q", "-m", "one")
    let repository = try #require(try GitRepository.discover(from: fixture.root))
    #expect(repository.workdir == fixture.root)
    #expect(try repository.headCommit != nil)
    #expect(try repository.trackedAndUnignoredFiles() == ["f.txt"])
}

@Test func oddRepositoryPaths() throws {
    for name in ["my project", "ünïcødé/日本", "-rf", "a,b:c", "trailing "] {
        let fixture = try GitFixture.committed(["file.txt"], name: name)
        let repository = try #require(try GitRepository.discover(from: fixture.root))
        #expect(repository.workdir == fixture.root)
        #expect(try repository.trackedAndUnignoredFiles() == ["file.txt"])
    }
}

@Test func newlineInRepositoryPathIsEscapedInErrors() throws {
    let fixture = try GitFixture(name: "new\nline")
    try fixture.git("init", "-q", "--bare")
    let error = try capture(GitError.self) { try GitRepository.discover(from: fixture.root) }
    #expect(error.description.contains("new\\nline"))
    #expect(!error.description.contains("\n"))
}

@Test func concurrentDiscoveryInitialisesOnce() async throws {
    let fixture = try GitFixture.committed(["a.txt"])
    let root = fixture.root
    let workdirs = try await withThrowingTaskGroup(of: String?.self) { group in
        for _ in 0..<16 {
            group.addTask { try GitRepository.discover(from: root)?.workdir }
        }
        var results: [String?] = []
        for try await result in group { results.append(result) }
        return results
    }
    #expect(workdirs == Array(repeating: root, count: 16))
}

@Test func brokenGitFileReportsLibgit2Message() throws {
    let fixture = try GitFixture()
    try fixture.write(".git", "gitdir: /nonexistent/devenv-test.git\n")
    let error = try capture(GitError.self) { try GitRepository.discover(from: fixture.root) }
    #expect(error.operation == "open repository")
    #expect(error.object == fixture.root)
    #expect(error.code < 0)
    #expect(error.message.contains("/nonexistent/devenv-test.git"))
}


@Test func danglingWorktreeIsAnError() throws {
    let fixture = try GitFixture.committed(["a.txt"])
    let worktree = fixture.base + "/wt"
    try fixture.git("worktree", "add", "-q", "-b", "feature", worktree)
    try FileManager.default.removeItem(atPath: fixture.root)
    try FileManager.default.createDirectory(atPath: worktree + "/sub", withIntermediateDirectories: true)
    let error = try capture(GitError.self) { try GitRepository.discover(from: worktree + "/sub") }
    #expect(error.object == worktree)
}

@Test func symlinkedStartDirectoryResolves() throws {
    let fixture = try GitFixture.committed(["src/a.c"])
    let link = fixture.base + "/link"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: fixture.root + "/src")
    let repository = try #require(try GitRepository.discover(from: link))
    #expect(repository.workdir == fixture.root)
}

@Test func emptyDotGitDirectoryIsSkippedLikeGitDoes() throws {
    let fixture = try GitFixture.committed(["a.txt"])
    try fixture.mkdir("inner/.git")
    let repository = try #require(try GitRepository.discover(from: fixture.root + "/inner"))
    #expect(repository.workdir == fixture.root)
}
