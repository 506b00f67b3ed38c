import DevenvSystem
#if canImport(Glibc)
import Glibc
#endif

/// A depth-first walk of a directory tree through file descriptors. Children are visited in
/// byte order of their names, symlinks are never followed, and directory fds are opened with
/// O_NOFOLLOW. At most `openLimit` directory fds are held however deep the tree is: frames
/// further up are closed and reopened by name when the walk returns to them.
struct TreeWalker {
    struct Visit {
        /// The directory containing the node (valid during the callback only).
        let parent: Int32
        let name: [UInt8]
        let info: stat
        /// Names from the walk's root to the node.
        let path: [[UInt8]]
    }

    enum Event {
        /// A non-directory.
        case entry(Visit)
        /// A directory, opened (fd valid during the callback), before its children.
        case enter(Visit, directory: Int32)
        /// The same directory after its children.
        case leave(Visit, directory: Int32)
    }

    private final class Frame {
        let name: [UInt8]
        let info: stat
        var directory: FileDescriptor?
        var children: [(name: [UInt8], info: stat)] = []
        var next = 0

        init(name: [UInt8], info: stat, directory: FileDescriptor) {
            self.name = name
            self.info = info
            self.directory = directory
        }
    }

    let root: FileDescriptor
    var openLimit = 64

    init(root: FileDescriptor) {
        self.root = root
    }

    func walk(_ handle: (Event) throws -> Void) throws {
        var rootInfo = stat()
        guard fstat(root.raw, &rootInfo) == 0 else { throw Failure.system("fstat") }
        let top = Frame(name: [], info: rootInfo, directory: root)
        top.children = try Self.list(root.raw)
        var frames = [top]
        while let frame = frames.last {
            if frame.next == frame.children.count {
                if frames.count > 1 {
                    let directory = try reopen(frames, frames.count - 1)
                    let parent = try reopen(frames, frames.count - 2)
                    let visit = Visit(parent: parent.raw, name: frame.name, info: frame.info, path: frames.dropFirst().map(\.name))
                    try handle(.leave(visit, directory: directory.raw))
                }
                frames.removeLast()
                continue
            }
            let parent = try reopen(frames, frames.count - 1)
            let child = frame.children[frame.next]
            frame.next += 1
            let path = frames.dropFirst().map(\.name) + [child.name]
            let visit = Visit(parent: parent.raw, name: child.name, info: child.info, path: path)
            guard child.info.isDirectory else {
                try handle(.entry(visit))
                continue
            }
            let fd = withCString(child.name) { openat(parent.raw, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard fd >= 0 else { throw Failure.system("openat", entry: EntryPath.join(path[...])) }
            let next = Frame(name: child.name, info: child.info, directory: FileDescriptor(adopting: fd))
            try handle(.enter(visit, directory: fd))
            next.children = try Self.list(fd)
            frames.append(next)
            // Never the root (frame 0): the caller owns it.
            if frames.count > openLimit { frames[frames.count - openLimit].directory = nil }
        }
    }

    /// The fd of `frames[index]`, reopened from the nearest open ancestor if it was closed.
    private func reopen(_ frames: [Frame], _ index: Int) throws -> FileDescriptor {
        if let directory = frames[index].directory { return directory }
        var base = index
        while frames[base].directory == nil { base -= 1 }
        var current = frames[base].directory!
        for step in (base + 1)...index {
            let fd = withCString(frames[step].name) { openat(current.raw, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard fd >= 0 else { throw Failure.system("openat") }
            current = FileDescriptor(adopting: fd)
        }
        frames[index].directory = current
        return current
    }

    /// The children of a directory with their lstat, sorted by name bytes.
    static func list(_ directory: Int32) throws -> [(name: [UInt8], info: stat)] {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            throw Failure.system("fdopendir")
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var children: [(name: [UInt8], info: stat)] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw Failure.system("readdir") }
                break
            }
            let name: [UInt8] = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { bytes(of: $0) }
            }
            if name == [0x2e] || name == [0x2e, 0x2e] { continue }
            var info = stat()
            let status = withCString(name) { fstatat(directory, $0, &info, AT_SYMLINK_NOFOLLOW) }
            guard status == 0 else { throw Failure.system("fstatat", entry: name) }
            children.append((name, info))
        }
        children.sort { $0.name.lexicographicallyPrecedes($1.name) }
        return children
    }
}
