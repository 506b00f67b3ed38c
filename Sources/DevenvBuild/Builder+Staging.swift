import DevenvArchive
import DevenvOCI
import DevenvPlan
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The step kinds that touch the filesystem without running anything (copies, created working
/// directories): they look at the image built so far through a `LayerView` and stage only
/// what changes, so destinations resolve through the image's symlinks and existing parent
/// directories keep their metadata.
extension Builder {
    func copyFiles(_ planned: PlannedStep, copy: CopyStep, number: Int, state: Progress, scratch: String) throws -> (Descriptor, Digest) {
        let view = LayerView(lowerDirs: try snapshots(layers: state.layers, diffIDs: state.diffIDs), ownership: ownership)
        let root = "\(scratch)/copy-\(number)"
        let owners: [[UInt8]: RecordedOwner]
        let mtimes: [[UInt8]: Int64]
        do {
            let owner = try copy.owner.map { try ImageOwner.resolve($0, in: view) }
            var stager = try ImageTreeStager(view: view, root: root)
            try stager.copy(copy, items: planned.copyItems, owner: owner)
            owners = stager.owners
            mtimes = stager.mtimes
        } catch let error as BuildError {
            throw error
        } catch {
            throw BuildError.copyFailed(number: number, location: planned.location, path: copy.sources.joined(separator: " "), reason: "\(error)")
        }
        return try commitLayer(from: root, owners: owners, mtimes: mtimes, number: number, location: planned.location)
    }

    /// Creates the working directory, owned by the current user, when the image lacks it;
    /// nil (no layer) when it exists.
    func makeWorkdir(_ planned: PlannedStep, path: String, number: Int, state: Progress, scratch: String) throws -> (Descriptor, Digest)? {
        let view = LayerView(lowerDirs: try snapshots(layers: state.layers, diffIDs: state.diffIDs), ownership: ownership)
        let root = "\(scratch)/workdir-\(number)"
        let owners: [[UInt8]: RecordedOwner]
        do {
            let owner = try state.run.user.flatMap { $0.isEmpty ? nil : try ImageOwner.resolve($0, in: view) } ?? .root
            var stager = try ImageTreeStager(view: view, root: root)
            guard try stager.workdir(path, owner: owner) else { return nil }
            owners = stager.owners
        } catch let error as BuildError {
            throw error
        } catch {
            throw BuildError.copyFailed(number: number, location: planned.location, path: path, reason: "\(error)")
        }
        return try commitLayer(from: root, owners: owners, number: number, location: planned.location)
    }

    /// overlayfs needs a lower directory even when the image has no layer yet (FROM scratch).
    func emptyLowerDirectory(scratch: String, number: Int) throws -> String {
        let path = "\(scratch)/empty-\(number)"
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw SystemError.last("mkdir", path: path) }
        return path
    }
}
