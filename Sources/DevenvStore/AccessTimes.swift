import DevenvOCI
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// When each image was last used, for the store budget's least-recently-used order: the
/// mtime of `access/<alg>-<hex>`, one `utimensat` per use (the file is created the first
/// time). An image never touched counts from when its manifest blob was written.
public struct AccessTimes: Sendable {
    public let directory: String

    public init(layout: StoreLayout) { directory = "\(layout.root)/access" }

    func path(_ digest: Digest) -> String { "\(directory)/\(digest.algorithm.rawValue)-\(digest.encoded)" }

    /// Best effort: a store we cannot write to only loses the order of eviction.
    public func touch(_ digest: Digest) {
        let path = path(digest)
        if Self.touch(path) || errno != ENOENT { return }
        mkdir(directory, 0o700)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if descriptor >= 0 { close(descriptor) }
    }

    /// Sets the mtime of an existing file or directory to now (a build-cache entry hit, a
    /// cache mount used), never creating it; false (errno set) when it cannot.
    @discardableResult
    public static func touch(_ path: String) -> Bool {
        utimensat(AT_FDCWD, path, nil, AT_SYMLINK_NOFOLLOW) == 0
    }

    /// Seconds since the epoch, or nil when the image was never touched.
    public func lastUsed(_ digest: Digest) -> Double? { Self.modified(path(digest)) }

    public static func modified(_ path: String) -> Double? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    /// The records of images no longer in the store.
    func prune(keeping digests: Set<Digest>) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let parts = name.split(separator: "-", maxSplits: 1).map(String.init)
            guard parts.count == 2, let digest = try? Digest(parsing: "\(parts[0]):\(parts[1])"), digests.contains(digest) else {
                unlink("\(directory)/\(name)")
                continue
            }
        }
    }
}
