import DevenvManifest
import DevenvSession
import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// `[shell] dotfiles` on this host: each entry that exists below the host user's home becomes
/// a read-only bind at the same place below the container user's. A missing one is a warning
/// at its line, not an error: the list is the project's, and a teammate without
/// `~/.config/nvim` still gets a shell (the warning catches a typo). A symlink is followed
/// (a dotfile managed by stow or a dotfiles repository is one), as the user's own choice; the
/// manifest cannot climb out of the home, `..` is refused where it is written.
enum ProjectDotfiles {
    struct Resolved: Equatable {
        var files: [HomeFile] = []
        /// `FILE:LINE:COLUMN: warning: …`, one per entry left out.
        var warnings: [String] = []
    }

    static func resolve(_ dotfiles: [Manifest.Dotfile], home: String?, manifest: String) throws -> Resolved {
        var resolved = Resolved()
        guard !dotfiles.isEmpty else { return resolved }
        guard let home else { throw KitError.noHomeForMount(target: "[shell] dotfiles") }
        for dotfile in dotfiles {
            let written = Printable.quoted(dotfile.written.value)
            let at = "\(manifest):\(dotfile.written.location)"
            let source = home + "/" + dotfile.relativePath
            var info = stat()
            guard stat(source, &info) == 0 else {
                guard errno == ENOENT || errno == ENOTDIR else {
                    throw KitError.invalidManifestValue(location: at, key: "[shell] dotfiles", reason: "\(written): \(Errno.message(errno))")
                }
                resolved.warnings.append("\(at): warning: [shell] dotfiles: \(written) does not exist on this host; it is not bound")
                continue
            }
            let kind = info.st_mode & S_IFMT
            guard kind == S_IFREG || kind == S_IFDIR || kind == S_IFSOCK else {
                throw KitError.invalidManifestValue(location: at, key: "[shell] dotfiles",
                                                    reason: "\(written) is \(FileDescriptor.kind(info.st_mode)); only files, directories and sockets are bound")
            }
            resolved.files.append(HomeFile(source: source, relativePath: dotfile.relativePath, writable: dotfile.writable))
        }
        return resolved
    }
}
