import DevenvOCI
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Image names (`docker.io/library/busybox:latest`) mapped to manifest descriptors, kept in
/// the layout's `index.json` with the `org.opencontainers.image.ref.name` annotation so
/// `skopeo inspect oci:STORE:NAME` finds them. Writers hold an exclusive lock for the
/// read-modify-write and replace the file atomically; readers never see a torn file.
public struct ReferenceStore: Sendable {
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"
    public static let createdAnnotation = "org.opencontainers.image.created"

    public let layout: StoreLayout
    /// Tens of thousands of names; a larger index is damage, not a store.
    static let maxIndexSize = 64 << 20

    public init(layout: StoreLayout) { self.layout = layout }

    public struct Entry: Sendable {
        public var name: String
        /// The manifest descriptor without the store's own annotations.
        public var descriptor: Descriptor
        /// When the name was last pointed at this manifest.
        public var tagged: String?
    }

    public func list() throws -> [Entry] {
        try load().manifests.compactMap { stored in
            guard let name = stored.annotations?[Self.refNameAnnotation] else { return nil }
            var descriptor = stored
            descriptor.annotations?[Self.refNameAnnotation] = nil
            descriptor.annotations?[Self.createdAnnotation] = nil
            if descriptor.annotations?.isEmpty == true { descriptor.annotations = nil }
            return Entry(name: name, descriptor: descriptor, tagged: stored.annotations?[Self.createdAnnotation])
        }
    }

    public func lookup(_ name: String) throws -> Descriptor? {
        try list().first { $0.name == name }?.descriptor
    }

    /// Points `name` at `descriptor`, replacing what it pointed at before.
    public func set(_ name: String, to descriptor: Descriptor) throws {
        try update { index in
            index.manifests.removeAll { $0.annotations?[Self.refNameAnnotation] == name }
            var entry = descriptor
            var annotations = entry.annotations ?? [:]
            annotations[Self.refNameAnnotation] = name
            annotations[Self.createdAnnotation] = Date().formatted(.iso8601)
            entry.annotations = annotations
            index.manifests.append(entry)
            index.manifests.sort { ($0.annotations?[Self.refNameAnnotation] ?? "") < ($1.annotations?[Self.refNameAnnotation] ?? "") }
        }
    }

    /// Removes `name`; returns the descriptor it pointed at, or nil if it did not exist.
    @discardableResult
    public func remove(_ name: String) throws -> Descriptor? {
        var removed: Descriptor?
        try update { index in
            if let position = index.manifests.firstIndex(where: { $0.annotations?[Self.refNameAnnotation] == name }) {
                removed = index.manifests.remove(at: position)
            }
        }
        return removed
    }

    private func update(_ change: (inout ImageIndex) throws -> Void) throws {
        let lock = try StoreError.wrap { try FileLock(path: layout.indexLock()) }
        defer { lock.unlock() }
        var index = try load()
        try change(&index)
        try StoreError.wrap { try AtomicFile.write(OCIDocument.encode(index), to: layout.indexFile) }
    }

    func load() throws -> ImageIndex {
        let bytes: [UInt8]?
        do {
            bytes = try FileDescriptor.readRegularFileIfPresent(layout.indexFile, limit: Self.maxIndexSize, flags: O_NOFOLLOW)
        } catch {
            throw StoreError.corrupt(path: layout.indexFile, reason: "\(error)")
        }
        guard let bytes else { return ImageIndex(manifests: []) }
        let data = Data(bytes)
        do {
            return try OCIDocument.decode(data, as: "store index")
        } catch {
            throw StoreError.corrupt(path: layout.indexFile, reason: "\(error)")
        }
    }
}
