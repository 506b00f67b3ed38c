import DevenvArchive
import DevenvOCI
import DevenvStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The entry point of devenv's use cases: one store, opened once per command.
public final class Engine: @unchecked Sendable {
    public let store: ImageStore

    /// Opens (creating if needed) the store at `root`, or at the default location.
    public init(storeRoot: String? = nil) throws {
        store = try ImageStore(root: storeRoot ?? StoreLayout.defaultRoot(), unpacker: ArchiveLayerUnpacker())
    }

    public func importer() -> ImageImporter { ImageImporter(store: store) }
    public func exporter() -> ImageExporter { ImageExporter(store: store) }
    public func garbageCollector() -> GarbageCollector { GarbageCollector(store: store) }
}

/// Applies layers with DevenvArchive's confined unpacker. Whiteouts become overlayfs
/// whiteouts in the xattr namespace the runtime mounts with: `trusted.` as root,
/// `user.` (overlay's `userxattr`) in a rootless store.
struct ArchiveLayerUnpacker: LayerUnpacking {
    func unpack(layerAt path: String, declared: LayerCompression?, into directory: String) throws -> Digest {
        try LayerUnpacker.unpack(layerAt: path, declared: declared, into: directory, options: UnpackOptions()).diffID
    }
}
