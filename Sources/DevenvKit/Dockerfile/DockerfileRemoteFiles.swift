import DevenvAdopt
import DevenvBuild
import DevenvOCI
import DevenvRegistry
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// ADD's http and https sources, fetched into the project's state directory (never into the
/// build context) when the step is planned. With `--checksum` the file is kept under its
/// digest and fetched only once; without one it is fetched on every build, as BuildKit
/// revalidates it, and its content digest and `Last-Modified` decide whether the step runs
/// again. The file keeps `Last-Modified` as its mtime in the image (the epoch without one),
/// as BuildKit's HTTP source sets it; the kept file carries that mtime between builds. A
/// server's `ETag` is kept beside the file (`url-<hash>.json`) and sent back as
/// `If-None-Match`, so an unchanged file is not downloaded again (BuildKit's revalidation).
enum DockerfileRemoteFiles {
    /// A bound against a server that never stops sending.
    static let limit: Int64 = 16 << 30

    static func items(_ files: [RemoteFile], directory: String, location: String,
                      registry: () throws -> RegistryClient) throws -> [CopyItem] {
        guard !files.isEmpty else { return [] }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try files.map { file in
            let path: String
            let digest: Digest
            if let checksum = file.checksum {
                path = "\(directory)/\(checksum.algorithm.rawValue)-\(checksum.encoded)"
                if FileManager.default.fileExists(atPath: path) {
                    digest = checksum
                } else {
                    digest = try download(file, to: path, location: location, registry: registry)
                }
            } else {
                path = "\(directory)/url-\(Digest.sha256(Data(file.url.utf8)).encoded)"
                digest = try download(file, to: path, location: location, registry: registry, record: path + ".json")
            }
            // The mode the file gets unless --chmod, as BuildKit's HTTP source makes it.
            chmod(path, 0o600)
            var status = stat()
            guard stat(path, &status) == 0 else {
                throw KitError.downloadFailed(location: location, url: file.url, reason: "cannot stat \(path): \(String(cString: strerror(errno)))")
            }
            let input = BuildInput(path: file.url, kind: .file, digest: digest, mode: 0o600, mtime: Int64(status.st_mtim.tv_sec))
            return CopyItem(name: file.name, kind: .file, entries: [CopyEntry(source: path, relative: "", input: input)])
        }
    }

    /// `record`: where the last download's headers are kept for revalidation.
    private static func download(_ file: RemoteFile, to path: String, location: String,
                                 registry: () throws -> RegistryClient, record: String? = nil) throws -> Digest {
        guard let url = URL(string: file.url) else {
            throw KitError.downloadFailed(location: location, url: file.url, reason: "not a valid URL")
        }
        let known = record.flatMap { kept(path, record: $0) }
        let downloaded: URLDownload
        do {
            downloaded = try registry().download(url, to: path, expected: file.checksum, limit: limit, known: known)
        } catch let error as RegistryError {
            throw KitError.downloadFailed(location: location, url: file.url, reason: error.description)
        }
        if let record, downloaded != known {
            unlink(record)
            // Without it the next build downloads again: nothing is lost but the shortcut.
            if downloaded.etag != nil, let data = try? JSONEncoder().encode(downloaded) { try? data.write(to: URL(fileURLWithPath: record), options: .atomic) }
        }
        var times = [timespec](repeating: timespec(tv_sec: Int(downloaded.modified ?? 0), tv_nsec: 0), count: 2)
        guard utimensat(AT_FDCWD, path, &times, 0) == 0 else {
            throw KitError.downloadFailed(location: location, url: file.url, reason: "cannot set the mtime of \(path): \(String(cString: strerror(errno)))")
        }
        return downloaded.digest
    }

    /// The last download of `path`, when it had an ETag and the file still holds its bytes.
    private static func kept(_ path: String, record: String) -> URLDownload? {
        guard let data = try? FileDescriptor.readRegularFile(record, limit: 64 << 10, operation: "read the download record"),
              let known = try? JSONDecoder().decode(URLDownload.self, from: Data(data)), known.etag != nil,
              (try? FileDigest.sha256(of: path)) == known.digest else { return nil }
        return known
    }
}
