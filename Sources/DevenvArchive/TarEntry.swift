#if canImport(Glibc)
import Glibc
#endif

/// One tar entry's header, copied out of libarchive into plain values. Names are raw bytes.
struct TarEntry {
    enum Kind: Equatable {
        case file, directory, symlink, hardlink, characterDevice, blockDevice, fifo, socket
    }

    var path: [UInt8]
    var kind: Kind
    /// Permission bits including setuid, setgid and sticky (07777).
    var permissions: mode_t
    var uid: Int64
    var gid: Int64
    var size: Int64
    var mtime: timespec
    var atime: timespec?
    /// Symlink or hardlink target.
    var linkTarget: [UInt8]
    var deviceMajor: UInt64
    var deviceMinor: UInt64
    var xattrs: [Xattr]

    var isDevice: Bool { kind == .characterDevice || kind == .blockDevice }
}

/// An extended attribute as bytes.
struct Xattr: Equatable {
    var name: [UInt8]
    var value: [UInt8]

    var nameString: String { String(decoding: name, as: UTF8.self) }
}
