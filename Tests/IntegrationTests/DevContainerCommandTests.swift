@testable import DevenvTestSupport
import Foundation
import Testing

/// Every project command asks one locator which kind of project it is in, so `status` and
/// `lock` know a devcontainer.json project as `build`, `run` and `shell` do (they used to
/// answer that there was no .devenv/devenv.toml).
@Suite(.serialized) struct DevContainerCommandTests {
    /// A project with only a devcontainer.json on the fixture's busybox image.
    static func project(_ json: String = #"{ "image": "busybox:it", "containerEnv": { "GREETING": "hi" } }"#) throws -> ProjectFixture {
        let project = try ProjectFixture(manifest: "")
        try FileManager.default.removeItem(atPath: "\(project.root)/.devenv")
        try project.write(".devcontainer/devcontainer.json", json)
        return project
    }

    @Test func statusShowsTheDevContainerProject() throws {
        let project = try Self.project()
        let status = try project.devenv(["status"])
        #expect(status.succeeded, "\(status.stderr)")
        #expect(status.stdout.contains("manifest: .devcontainer/devcontainer.json"), "\(status.stdout)")
        #expect(status.stdout.contains("base:     busybox:it (sha256:"), "\(status.stdout)")
        #expect(status.stdout.contains("lock:     none: a devcontainer.json is built as written"), "\(status.stdout)")
        #expect(status.stdout.contains("1 step(s) would run") && status.stdout.contains("step 1 .devcontainer/devcontainer.json:1"), "\(status.stdout)")

        let json = try project.devenv(["status", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout) \(json.stderr)")
        #expect(object["lock"] as? String == "not-applicable" && object["built"] as? Bool == false)
        #expect(object["manifest"] as? String == ".devcontainer/devcontainer.json")
    }

    @Test func lockSaysWhatItCannotPinAndHowToPinIt() throws {
        let project = try Self.project()
        let lock = try project.devenv(["lock"])
        #expect(lock.status == 125, "\(lock.stdout) \(lock.stderr)")
        #expect(lock.stderr.contains(".devcontainer/devcontainer.json: a devcontainer.json has no lock file; devenv builds it as written; to make it reproducible, pin \"image\" by digest: \"busybox@sha256:"), "\(lock.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(project.root)/.devenv/devenv.lock"))

        try project.write(".devcontainer/devcontainer.json", #"{ "build": { "dockerfile": "Dockerfile" } }"#)
        try project.write(".devcontainer/Dockerfile", "FROM busybox:it\n")
        let dockerfile = try project.devenv(["lock"])
        #expect(dockerfile.status == 125 && dockerfile.stderr.contains("pin the Dockerfile's FROM images by digest"), "\(dockerfile.stderr)")
        let status = try project.devenv(["status"])
        #expect(status.status == 125 && status.stderr.contains(".devcontainer/devcontainer.json: `devenv status` does not support a `build` from a Dockerfile yet"), "\(status.stderr)")
    }

    @Test func aMissingProjectIsStillNamedTheSameWay() throws {
        let project = try Self.project()
        try FileManager.default.removeItem(atPath: "\(project.root)/.devcontainer")
        for command in [["status"], ["lock"]] {
            let result = try project.devenv(command)
            #expect(result.status == 66 && result.stderr.contains("no .devenv/devenv.toml in"), "\(command): \(result.stderr)")
        }
    }

    /// `run` enters the adopted project as the planner says: the workspace folder, remoteEnv,
    /// the start command first; after a build, `status` says it is up to date. As root and as
    /// the unprivileged test user (a rootless store of its own).
    @Test(.enabled(if: Requirement.root()), arguments: DevenvUser.allCases)
    func runEntersTheProjectAndStatusFollowsTheBuild(_ user: DevenvUser) throws {
        try Requirement.require(root: true)
        let scratch = try Scratch("devenv-devcontainer-run")
        let runner = try DevenvRunner(user, scratch: scratch)
        let root = scratch.file("project")
        try FileManager.default.createDirectory(atPath: "\(root)/.devcontainer", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(root)/sub", withIntermediateDirectories: true)
        try """
            { "image": "busybox:it", "workspaceFolder": "/code", "remoteEnv": { "EDITOR": "vi" },
              "containerEnv": { "GREETING": "hi" }, "postStartCommand": "echo started >&2" }
            """.write(toFile: "\(root)/.devcontainer/devcontainer.json", atomically: true, encoding: .utf8)
        let tarball = try Fixtures.busyboxRootfs(in: scratch)
        try runner.own(scratch.path)
        let imported = try runner.devenv(["image", "import", tarball, "--tag", "busybox:it"])
        try #require(imported.succeeded, "\(imported.stderr)")

        let run = try runner.devenv(["run", "--no-tty", "--", "sh", "-c", "pwd; echo $EDITOR $GREETING; hostname"], directory: "\(root)/sub")
        #expect(run.succeeded, "\(run.stderr)")
        #expect(run.stdout == "/code/sub\nvi hi\nproject\n", "\(run.stdout)")
        #expect(run.stderr.contains("started"), "\(run.stderr)")
        let task = try runner.devenv(["run", "test"], directory: root)
        #expect(!task.succeeded && task.stderr.contains("devcontainer.json projects have no [tasks]"), "\(task.stderr)")
        let status = try runner.devenv(["status"], directory: root)
        #expect(status.succeeded && status.stdout.contains(": up to date"), "\(status.stdout) \(status.stderr)")
    }
}
