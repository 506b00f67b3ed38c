@testable import DevenvTestSupport
import DevenvStore
import Foundation
import Testing
@testable import DevenvKit

extension Scratch {
    func write(_ relative: String, _ text: String) throws {
        let path = file(relative)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// Every project command asks `ProjectLocator` which project and which kind this is.
@Suite struct ProjectLocatorTests {
    @Test func theNearestProjectWinsAndAManifestBeatsADevContainer() throws {
        let tree = try Scratch("devenv-kit")
        try tree.write("outer/.devenv/devenv.toml", "[base]\nimage = \"busybox\"\n")
        try tree.write("outer/inner/.devcontainer/devcontainer.json", "{ \"image\": \"busybox\" }")
        try FileManager.default.createDirectory(atPath: "\(tree.path)/outer/inner/src", withIntermediateDirectories: true)
        #expect(ProjectLocator.locate(from: "\(tree.path)/outer/inner/src") == .devContainer(root: "\(tree.path)/outer/inner"))
        #expect(ProjectLocator.locate(from: "\(tree.path)/outer") == .manifest(root: "\(tree.path)/outer"))

        try tree.write("outer/inner/.devenv/devenv.toml", "[base]\nimage = \"busybox\"\n")
        #expect(ProjectLocator.locate(from: "\(tree.path)/outer/inner/src") == .manifest(root: "\(tree.path)/outer/inner"))
        #expect(ProjectLocator.locate(from: tree.path) == nil)
    }

    @Test func loadGivesTheKind() throws {
        let tree = try Scratch("devenv-kit")
        try tree.write(".devcontainer.json", "{ \"image\": \"busybox\", \"workspaceFolder\": \"/w\" }")
        let project = try ProjectLocator.load(from: tree.path, environment: [:])
        guard case let .devContainer(adopted) = project else {
            Issue.record("expected a devcontainer project, got \(project)")
            return
        }
        #expect(adopted.displayPath == ".devcontainer.json" && project.displayPath == ".devcontainer.json")
        #expect(project.kind == .devContainer && project.root == tree.path)

        let empty = try Scratch("devenv-kit")
        let error = try #require(throws: KitError.self) { try ProjectLocator.load(from: empty.path) }
        #expect(error == .projectNotFound(empty.path))
    }
}

/// `projects/<id>/` paths come from `ProjectState` alone.
@Suite struct ProjectStateTests {
    @Test func pathsAndIds() throws {
        let tree = try Scratch("devenv-kit")
        let layout = try StoreLayout(root: "\(tree.path)/store")
        let state = ProjectState(layout: layout, root: "/home/alice/app")
        #expect(state.id.count == 12 && state.id.allSatisfy(\.isHexDigit))
        #expect(state.directory == "\(tree.path)/store/projects/\(state.id)")
        #expect(state.recordPath == state.directory + "/record.json" && state.statCachePath == state.directory + "/statcache.json")
        // The image tag, a manifest project's id and a devcontainer project's id name the same checkout.
        #expect(Project.imageTag(root: "/home/alice/app") == "localhost/devenv/app:\(state.id)")
        #expect(ProjectState(layout: layout, root: "/home/alice/app2").id != state.id)

        #expect(ProjectState.all(in: layout).isEmpty)
        try state.create()
        try ProjectState(layout: layout, root: "/other").create()
        #expect(Set(ProjectState.all(in: layout).map(\.directory)) == [state.directory, ProjectState(layout: layout, root: "/other").directory])
        #expect(state.record() == nil)
        try tree.write("store/projects/\(state.id)/record.json", "not json")
        #expect(state.record() == nil)
    }

    @Test func oneRegistryClientPerEngine() throws {
        let tree = try Scratch("devenv-kit")
        let engine = try Engine(storeRoot: "\(tree.path)/store")
        #expect(try engine.registry() === engine.registry())
    }
}
