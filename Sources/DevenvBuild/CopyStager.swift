import DevenvOCI
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Lays out a copy step's files under a staging root as they will appear in the image,
/// owned by root, re-hashing each file as it is copied: a file that changed since its
/// digest went into the cache key fails the step instead of poisoning the cache.
enum CopyStager {
    static func stage(_ files: [CopyFile], into root: String, number: Int, location: String) throws {
        try makeDirectory(root)
        for file in files.sorted(by: { $0.destination < $1.destination }) {
            let target = root + file.destination
            do {
                try makeParents(of: target, root: root)
                switch file.input.kind {
                case .directory:
                    try makeDirectory(target)
                    chmod(target, mode_t(file.input.mode))
                case .symlink:
                    let destination = try FileManager.default.destinationOfSymbolicLink(atPath: file.source)
                    guard Digest.sha256(Data(destination.utf8)) == file.input.digest else { throw changed(file) }
                    try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: destination)
                case .file:
                    try copyContents(file, to: target)
                }
                if geteuid() == 0 { lchown(target, 0, 0) }
            } catch let error as BuildError {
                throw error
            } catch {
                throw BuildError.copyFailed(number: number, location: location, path: file.source, reason: "\(error)")
            }
        }
    }

    private static func copyContents(_ file: CopyFile, to target: String) throws {
        let input = try FileDescriptor.open(file.source, O_RDONLY | O_NOFOLLOW)
        let output = try FileDescriptor.open(target, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: mode_t(file.input.mode))
        var hasher = DigestHasher()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try input.read(into: buffer, path: file.source)
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<count])
            hasher.update(chunk)
            try output.writeAll(chunk, path: target)
        }
        guard hasher.finalize() == file.input.digest else { throw changed(file) }
        fchmod(output.raw, mode_t(file.input.mode))
    }

    private static func changed(_ file: CopyFile) -> FileChanged { FileChanged(path: file.source) }

    struct FileChanged: Error, CustomStringConvertible {
        let path: String
        var description: String { "the file changed while the build was reading it; run the build again" }
    }

    private static func makeParents(of path: String, root: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        guard parent.count > root.count else { return }
        try makeParents(of: parent, root: root)
        try makeDirectory(parent)
        if geteuid() == 0 { lchown(parent, 0, 0) }
    }

    private static func makeDirectory(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw SystemError.last("mkdir", path: path) }
    }
}
