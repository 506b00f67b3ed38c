import DevenvOCI
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// The content digest of a build input file (not following a final symlink): what a cache
/// key records and what staging checks again while it copies. A FIFO or device put in its
/// place since it was listed is refused, never read.
public enum FileDigest {
    public static func sha256(of path: String) throws -> Digest {
        let file = try FileDescriptor.openRegularFile(path, flags: O_NOFOLLOW, operation: "hash")
        var hasher = DigestHasher()
        try file.readChunks(path: path) { hasher.update($0) }
        return hasher.finalize()
    }
}
