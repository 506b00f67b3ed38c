import DevenvArchive
import DevenvOCI
import DevenvSystem
import Foundation

/// What `devenv image import` was handed, recognised by content rather than by file name.
enum ImageSource {
    case ociLayoutDirectory(String)
    case rootfsDirectory(String)
    case ociArchive(String, index: Data)
    case dockerArchive(String, manifest: Data, members: Set<String>)
    case rootfsArchive(String)

    static let smallFileLimit = Int(OCIDocument.maxSize)

    static func detect(_ path: String) throws -> ImageSource {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw KitError.importFailed(source: path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            return FileManager.default.fileExists(atPath: "\(path)/oci-layout") ? .ociLayoutDirectory(path) : .rootfsDirectory(path)
        }
        // An archive is read twice (recognised, then imported): a FIFO or a device cannot be,
        // and opening one for reading could block or never end.
        _ = try FileDescriptor.openRegularFile(path, operation: "import")
        return try scanArchive(path)
    }

    /// One pass over the archive's headers; the small metadata members are kept.
    private static func scanArchive(_ path: String) throws -> ImageSource {
        let reader = try ArchiveFileReader(path: path)
        var members = Set<String>()
        var index: Data?
        var dockerManifest: Data?
        var hasLayout = false
        var count = 0
        while let entry = try reader.next() {
            count += 1
            members.insert(entry.name)
            switch entry.name {
            case "oci-layout": hasLayout = true
            case "index.json" where entry.isRegularFile: index = try reader.readData(limit: smallFileLimit)
            case "manifest.json" where entry.isRegularFile: dockerManifest = try reader.readData(limit: smallFileLimit)
            default: break
            }
        }
        guard count > 0 else { throw KitError.importFailed(source: path, reason: "the archive is empty") }
        if hasLayout, let index { return .ociArchive(path, index: index) }
        if let dockerManifest { return .dockerArchive(path, manifest: dockerManifest, members: members) }
        return .rootfsArchive(path)
    }
}
