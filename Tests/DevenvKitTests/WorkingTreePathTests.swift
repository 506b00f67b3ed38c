@testable import DevenvKit
import DevenvRuntime
import Foundation
import Testing

/// Working-tree paths that mounts and service volumes take: a symlink a container planted in
/// the tree never makes devenv create directories on the host, and an in-tree bind is planned
/// as the path it really is, pinned, so setup refuses it if it was swapped since.
@Suite struct WorkingTreePathTests {
    func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "devenv-tree-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: "\(path)/tree/real", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(path)/outside", withIntermediateDirectories: true)
        return path
    }

    @Test func aPlantedSymlinkCreatesNothingOutside() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createSymbolicLink(atPath: "\(base)/tree/data", withDestinationPath: "\(base)/outside")
        #expect(throws: ProjectServices.VolumeProblem.self) {
            try ProjectServices.workingTreePath("data/db/x", in: "\(base)/tree", create: true)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(base)/outside").isEmpty, "a directory was made through the symlink")
        #expect(throws: ProjectServices.VolumeProblem.self) {
            try ProjectServices.workingTreePath("real/../../outside/y", in: "\(base)/tree", create: true)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(base)/outside").isEmpty)

        // Inside the tree, through an in-tree symlink too, the missing directories are made.
        try FileManager.default.createSymbolicLink(atPath: "\(base)/tree/alias", withDestinationPath: "real")
        let made = try ProjectServices.workingTreePath("alias/db/x", in: "\(base)/tree", create: true)
        #expect(made.hasSuffix("/tree/real/db/x"))
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: "\(base)/tree/real/db/x", isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    @Test func inTreeBindsArePinnedAsTheirRealPaths() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createSymbolicLink(atPath: "\(base)/tree/alias", withDestinationPath: "real")
        var mounts = [BindMount(source: "\(base)/tree/alias", destination: "/a"), BindMount(source: "\(base)/outside", destination: "/b")]
        SessionPlanner.pinInTree(&mounts, root: "\(base)/tree")
        let real = try #require(realpath("\(base)/tree/real", nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) })
        #expect(mounts[0].source == real && mounts[0].pinned == true)
        #expect(mounts[1].source == "\(base)/outside" && mounts[1].pinned == nil, "a host path outside the tree is the user's own choice")
    }
}
