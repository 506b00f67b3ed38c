@testable import DevenvGit
import Foundation
import Testing

/// The remote `devenv kube generate` clones from: the branch's upstream, else origin, else
/// the only one; none to choose is nil, not a guess.
@Suite struct GitRemoteTests {
    @Test func defaultRemoteIsTheUpstreamThenOriginThenTheOnlyOne() throws {
        let fixture = try GitFixture.committed(["a.txt"])
        let repository = try #require(try GitRepository.discover(from: fixture.root))
        #expect(try repository.defaultRemote == nil, "no remote at all")

        try fixture.git("remote", "add", "fork", "https://example.com/fork.git")
        #expect(try repository.defaultRemote == GitRepository.Remote(name: "fork", url: "https://example.com/fork.git"), "the only one")

        try fixture.git("remote", "add", "mirror", "https://example.com/mirror.git")
        #expect(try repository.defaultRemote == nil, "two, neither origin nor upstream")

        try fixture.git("remote", "add", "origin", "git@example.com:team/app.git")
        #expect(try repository.defaultRemote?.name == "origin")
        #expect(try repository.remoteNames().sorted() == ["fork", "mirror", "origin"])

        try fixture.git("config", "branch.main.remote", "mirror")
        try fixture.git("config", "branch.main.merge", "refs/heads/main")
        #expect(try repository.defaultRemote == GitRepository.Remote(name: "mirror", url: "https://example.com/mirror.git"), "the branch's upstream")
    }
}
