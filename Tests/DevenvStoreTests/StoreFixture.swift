import DevenvOCI
import DevenvStore
import Foundation

/// A store in a fresh temp directory, removed when the fixture goes away.
final class StoreFixture {
    let root: String
    let store: ImageStore

    init(unpacker: any LayerUnpacking = FakeUnpacker()) throws {
        root = NSTemporaryDirectory() + "devenv-store-test-\(UUID().uuidString)"
        store = try ImageStore(root: root, unpacker: unpacker)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Stores `contents` as a "layer" blob and returns its descriptor; the fake unpacker
    /// treats the blob bytes as the uncompressed stream, so its DiffID equals its digest.
    func layer(_ contents: String) throws -> Descriptor {
        try store.content.put(Data(contents.utf8), mediaType: MediaType.layerTar)
    }

    @discardableResult
    func image(_ name: String, layers: [String]) throws -> StoredImage {
        let descriptors = try layers.map(layer)
        let config = ImageConfig(platform: .host, diffIDs: descriptors.map(\.digest))
        return try store.commitImage(name: try Reference(parsing: name).description, config: config, layers: descriptors)
    }
}

/// Writes the layer's bytes into `content` inside the snapshot. Not a tar reader: the
/// store's logic (keys, atomicity, verification) is what these tests exercise.
struct FakeUnpacker: LayerUnpacking {
    var failWith: String?
    var reportedDiffID: Digest?

    func unpack(layerAt path: String, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        try data.write(to: URL(fileURLWithPath: "\(target.directory)/content"))
        if let failWith { throw FakeFailure(message: failWith) }
        return reportedDiffID ?? Digest.sha256(data)
    }

    struct FakeFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
