@testable import DevenvKit
import DevenvManifest
import DevenvRuntime
import DevenvSession
import Foundation
import Testing

/// `[shell] home = "persistent"`: a store directory per container uid bound at `$HOME`, given
/// to that user by the container's setup and kept as its files are; none for a home of `/`.
@Suite struct PersistentHomeTests {
    static let manifest = "[base]\nimage = \"x\"\n[shell]\nhome = \"persistent\"\ndotfiles = [\"~/.bashrc\"]\n"

    func plan(_ options: SessionOptions = SessionOptions(), homes: String, home: String) throws -> SessionPlan {
        let project = try SessionPlannerTests.manifestProject(Self.manifest)
        let host = SessionHost(identity: HostIdentity(uid: 0, gid: 0, name: "root"), currentDirectory: SessionPlannerTests.root, home: home, environment: [:])
        var input = SessionPlanner.Input(target: .project(project, image: SessionPlannerTests.image()), lowerDirs: ["/nonexistent"], options: options,
                                         command: ["true"], defaultTerminal: false, host: host)
        input.persistentHomes = homes
        return try SessionPlanner.plan(input)
    }

    @Test func theHomeIsAStoreDirectoryOfTheUsersOwn() throws {
        let scratch = try SessionEnvironmentTests.Directory()
        try scratch.write(".bashrc", "")
        let homes = "\(scratch.path)/state/homes"
        let plan = try plan(homes: homes, home: scratch.path)
        let bound = plan.spec.mounts.filter { $0.destination.hasPrefix("/root") }
        // The home first, the dotfile onto it.
        #expect(bound == [BindMount(source: "\(homes)/0", destination: "/root", keepsOwners: true, sourceOwner: MountOwner(uid: 0, gid: 0)),
                          BindMount(source: "\(scratch.path)/.bashrc", destination: "/root/.bashrc", readOnly: true)])
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: "\(homes)/0", isDirectory: &isDirectory) && isDirectory.boolValue)
        #expect(plan.storePaths == ["\(homes)/0"] && plan.warnings.isEmpty)

        var other = SessionOptions()
        other.user = "4321:4321"
        let numeric = try self.plan(other, homes: homes, home: scratch.path)
        #expect(!numeric.spec.mounts.contains { $0.source.hasPrefix(homes) } && numeric.storePaths.isEmpty)
        #expect(numeric.warnings.contains { $0.contains("uid 4321 has no home directory in the image") }, "\(numeric.warnings)")
    }

    /// The home would hide a working tree or mount below it that came first.
    @Test func theHomeIsBoundBeforeWhatIsBelowIt() throws {
        let scratch = try SessionEnvironmentTests.Directory()
        let project = try SessionPlannerTests.manifestProject("[base]\nimage = \"x\"\n[shell]\nhome = \"persistent\"\nmount = \"/root/src\"\nmounts = [\"/srv/cache:/root/.cache\", \"/srv/data:/data\"]\n")
        let host = SessionHost(identity: HostIdentity(uid: 0, gid: 0, name: "root"), currentDirectory: "/elsewhere", home: scratch.path, environment: [:])
        var input = SessionPlanner.Input(target: .project(project, image: SessionPlannerTests.image()), lowerDirs: ["/nonexistent"], options: SessionOptions(),
                                         command: ["true"], defaultTerminal: false, host: host)
        input.persistentHomes = "\(scratch.path)/homes"
        let destinations = try SessionPlanner.plan(input).spec.mounts.map(\.destination)
        #expect(destinations == ["/root", "/root/src", "/root/.cache", "/data"], "\(destinations)")
    }

    @Test func aBadValueIsLocated() throws {
        let source = "[base]\nimage = \"x\"\n[shell]\nhome = \"kept\"\n"
        let error = #expect(throws: ManifestError.self) { try Manifest.parse(Array(source.utf8), path: ".devenv/devenv.toml") }
        #expect(error?.diagnostics.map { "\($0.location):\($0.message)" } == ["4:8:shell.home: expected 'ephemeral' or 'persistent', found 'kept'"])
        #expect(try Manifest.parse(Array("[base]\nimage = \"x\"\n".utf8), path: "m").shell.home == .ephemeral)
    }
}
