import DevenvSystem

/// One step of container setup, bubblewrap style: the whole list is computed up front (pure,
/// unit-tested without privileges) and interpreted in order by `devenv __init`.
///
/// `path`/`destination` values are container paths, resolved inside the new root filesystem
/// (symlinks cannot lead out of it). Scratch paths are host paths inside the private tmpfs that
/// init mounts on the runtime directory, visible only in the container's mount namespace.
public enum MountOperation: Hashable, Codable, Sendable {
    /// Makes every mount recursively private so nothing propagates back to the host.
    case makeRootPrivate
    /// Mounts the private scratch tmpfs (rootfs mount point, temporary upper, generated files).
    case scratchTmpfs(path: String)
    case makeScratchDirectory(path: String)
    case overlay(lowerDirs: [String], upperDir: String, workDir: String, target: String, userXattr: Bool)
    case proc(destination: String)
    case tmpfs(destination: String, options: String, flags: MountFlags)
    /// One allowed device: a bind of the host's `/dev/<name>` onto an empty file in the nodev
    /// /dev, after checking that the host's node is the character device `major:minor`.
    case device(destination: String, major: UInt32, minor: UInt32)
    /// A host device node (`--device`): checked to be a character or block device, bound
    /// without nodev.
    case hostDevice(source: String, destination: String)
    case devpts(destination: String, options: String)
    case symlink(destination: String, target: String)
    /// sysfs read-only; where the kernel refuses (user namespace without its own network
    /// namespace) a recursive read-only bind of the host's /sys.
    case sysfs(destination: String)
    /// Chowns a bind's source, a regular file with one link or a directory
    /// (`BindMount.sourceOwner`), to the container user, before it is bound.
    case giveSource(path: String, owner: MountOwner)
    /// A bind source the plan resolved and checked (a working-tree path): once opened it must
    /// still be that path, or something swapped a part of it for a symlink since.
    case pinnedSource(path: String)
    /// Recursive, and always nosuid and nodev (see `MountPlan.bindFlags`).
    case bind(source: String, destination: String, readOnly: Bool)
    /// Writes `contents` into the scratch `files` directory and binds it onto `destination`.
    case generatedFile(name: String, contents: String, destination: String)
    /// Adds the user and group to the image's /etc/passwd and /etc/group when missing.
    case accounts(user: ContainerUser)
    /// Creates the user's home directory, owned by the user, when missing.
    case home(user: ContainerUser)
    /// Creates a directory below the user's home, owned by the user, when missing: the
    /// parent of a mount point there stays the user's to write in.
    case userDirectory(path: String, user: ContainerUser)
    /// Hides a path: /dev/null over files, an empty read-only tmpfs over directories.
    case mask(path: String)
    case readOnly(path: String)
    /// pivot_root into the new root and detach the old one.
    case pivotRoot
}
