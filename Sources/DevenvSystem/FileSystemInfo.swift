import CDevenvShim
#if canImport(Glibc)
import Glibc
#endif

/// statfs(2) and the xattr size probe, for `devenv doctor` and cgroup detection.
public enum FileSystemInfo {
    /// The filesystem magic (`f_type`) of the filesystem holding `path`, or nil.
    public static func type(of path: String) -> Int64? {
        let type = devenv_statfs_type(path)
        return type < 0 ? nil : type
    }

    /// Whether `path` has the extended attribute `name` with a non-empty value (following symlinks).
    public static func hasAttribute(_ name: String, at path: String) -> Bool { devenv_getxattr_size(path, name) > 0 }
}
