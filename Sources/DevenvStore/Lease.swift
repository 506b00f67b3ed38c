import DevenvOCI
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A claim on blobs and snapshots that gc must keep while a shell or build uses them.
/// The lease file stays locked by its holder; a lease whose lock is free
/// belongs to a process that died, and gc removes it.
public final class Lease: @unchecked Sendable {
    public struct Claims: Codable, Sendable {
        public var digests: [Digest]
        public var snapshots: [String]
        public var pid: Int32
    }

    private let lock: FileLock
    public let path: String

    private let claims: Claims
    private let directory: String

    public init(layout: StoreLayout, digests: [Digest], snapshots: [String]) throws {
        let path = "\(layout.leases)/\(UUID().uuidString)"
        self.path = path
        directory = layout.leases
        lock = try StoreError.wrap { try FileLock(path: path) }
        let claims = Claims(digests: digests, snapshots: snapshots, pid: getpid())
        self.claims = claims
        // Not fsynced: a lease only matters while its holder runs, and a crash ends both.
        try StoreError.wrap { try AtomicFile.write(OCIDocument.encode(claims), to: path + ".json", durable: false) }
    }

    deinit {
        unlink(path + ".json")
        unlink(path)
        lock.unlock()
    }

    /// A second lease, handed to a process that outlives its maker.
    public struct HandedOff: Sendable {
        /// Locked, close-on-exec: the caller passes it on, then closes its own copy.
        public var descriptor: Int32
        /// The lease's files, which stay until its holder is gone: whoever sees it gone (the
        /// environment's records, `EnvironmentRecord.heldFiles`) removes them, else gc does,
        /// as any stale lease's.
        public var files: [String]
    }

    /// A second lease with the same claims for a process that outlives this one (a running
    /// environment's init).
    public func handOff() throws -> HandedOff {
        let path = "\(directory)/\(UUID().uuidString)"
        let descriptor = try StoreError.wrap { try FileDescriptor.openRaw(path, O_RDWR | O_CREAT | O_CLOEXEC, mode: 0o600) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = SystemError.last("flock", path: path)
            close(descriptor)
            throw StoreError.system(error)
        }
        do {
            try StoreError.wrap { try AtomicFile.write(OCIDocument.encode(claims), to: path + ".json", durable: false) }
        } catch {
            unlink(path)
            close(descriptor)
            throw error
        }
        return HandedOff(descriptor: descriptor, files: [path + ".json", path])
    }

    /// The claims of every live lease; stale ones are deleted on the way.
    static func live(layout: StoreLayout) -> [Claims] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.leases)) ?? []
        var result: [Claims] = []
        for name in names where !name.hasSuffix(".json") && !name.hasPrefix(".") {
            let path = "\(layout.leases)/\(name)"
            if let probe = try? FileLock.attempt(path: path) {
                // Nobody holds it: the holder died.
                unlink(path + ".json")
                unlink(path)
                probe.unlock()
                continue
            }
            if let data = FileManager.default.contents(atPath: path + ".json"),
               let claims = try? JSONDecoder().decode(Claims.self, from: data) {
                result.append(claims)
            }
        }
        return result
    }
}
