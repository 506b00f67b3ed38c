import DevenvOCI

/// A tar entry name normalised for extraction below a root directory.
///
/// Policy: names are byte strings; a leading `/` is ignored
/// (absolute names are relative to the root, as in every OCI implementation); empty and `.`
/// components are dropped; `..` removes the previous component, and a `..` that would climb
/// above the root is an error (fail closed). The result has no `.`, `..` or empty component,
/// so joining it never leaves the root lexically; symlinks are handled by in-root resolution.
struct EntryPath: Equatable, Hashable {
    let components: [[UInt8]]

    init(components: [[UInt8]]) {
        self.components = components
    }

    static func normalise(_ raw: [UInt8]) throws -> EntryPath {
        var stack: [[UInt8]] = []
        for part in raw.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if part.count == 1 && part[part.startIndex] == UInt8(ascii: ".") { continue }
            if part.count == 2 && part.allSatisfy({ $0 == UInt8(ascii: ".") }) {
                guard !stack.isEmpty else {
                    throw Failure(entry: raw, .escapesRoot, "'..' climbs above the root")
                }
                stack.removeLast()
                continue
            }
            stack.append(Array(part))
        }
        return EntryPath(components: stack)
    }

    var isRoot: Bool { components.isEmpty }
    var name: [UInt8] { components.last ?? [] }
    var parent: EntryPath { EntryPath(components: Array(components.dropLast())) }
    var depth: Int { components.count }
    var bytes: [UInt8] { EntryPath.join(components[...]) }

    static func join(_ parts: ArraySlice<[UInt8]>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.count + 1 })
        for (index, part) in parts.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "/")) }
            out.append(contentsOf: part)
        }
        return out
    }
}

/// How an entry's base name relates to OCI whiteouts (image-spec layer.md).
enum WhiteoutName: Equatable {
    /// An ordinary name.
    case none
    /// `.wh..wh..opq`: the parent directory hides everything below it in lower layers.
    case opaque
    /// `.wh..wh.<other>`: AUFS metadata (e.g. `.wh..wh.plnk`), never extracted.
    case aufsMetadata
    /// `.wh.<name>`: `name` is deleted from lower layers.
    case whiteout([UInt8])

    static let prefix = Array(".wh.".utf8)
    static let metaPrefix = Array(".wh..wh.".utf8)
    static let opaqueMarker = Array(".wh..wh..opq".utf8)

    /// Classifies a base name. `.wh.`, `.wh..` and `.wh...` would hide the directory itself
    /// or its parent: they are errors.
    static func classify(_ name: [UInt8]) throws -> WhiteoutName {
        guard name.starts(with: prefix) else { return .none }
        if name == opaqueMarker { return .opaque }
        if name.starts(with: metaPrefix) { return .aufsMetadata }
        let target = Array(name.dropFirst(prefix.count))
        if target.isEmpty || target == [UInt8(ascii: ".")] || target == [UInt8(ascii: "."), UInt8(ascii: ".")] {
            throw Failure(.invalidWhiteout, "invalid whiteout name")
        }
        return .whiteout(target)
    }

    /// True when the entry lies below an AUFS metadata directory (`.wh..wh.plnk/…`), which is
    /// skipped like the directory itself. Any other whiteout name as a directory
    /// (`.wh.etc/x`, `.wh..wh..opq/x`) is an error: the image spec reserves the prefix, so no
    /// filesystem a layer describes has such a directory, and a snapshot never gets one.
    static func isBelowAUFSMetadata(_ path: EntryPath) throws -> Bool {
        for component in path.components.dropLast() where component.starts(with: prefix) {
            if component.starts(with: metaPrefix) && component != opaqueMarker { return true }
            throw Failure(.invalidWhiteout, "'\(Printable.escape(bytes: component))' is a whiteout name; it cannot have entries below it")
        }
        return false
    }

    /// A whiteout or opaque marker is an empty regular file (image-spec; some writers store
    /// repeated whiteouts as hardlinks). A directory, symlink, device or FIFO with such a
    /// name is neither a valid whiteout nor a valid file: the layer is refused.
    static func checkKind(_ entry: TarEntry) throws {
        switch entry.kind {
        case .file, .hardlink: return
        case .directory: throw Failure(.invalidWhiteout, "a whiteout must be a regular file, not a directory")
        case .symlink: throw Failure(.invalidWhiteout, "a whiteout must be a regular file, not a symlink")
        case .characterDevice, .blockDevice, .fifo, .socket:
            throw Failure(.invalidWhiteout, "a whiteout must be a regular file, not a special file")
        }
    }
}
