import DevenvManifest
import DevenvSession
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `[shell] env_file`: read below the project root (a symlink in a cloned project cannot
/// make a session read `~/.aws/credentials` into its environment), parsed as docker's
/// `--env-file` (`EnvFile`).
enum ProjectEnvFile {
    static func entries(_ envFile: Located<String>, project: Project, host: [String: String]) throws -> [String] {
        let problem = { (reason: String) in
            KitError.invalidManifestValue(location: project.location(envFile.location), key: "[shell] env_file", reason: reason)
        }
        let text: String
        do {
            let root = try RootDirectory(opening: project.root, crossesMounts: true)
            guard let raw = try root.open(envFile.value, O_RDONLY) else { throw problem("\(Printable.quoted(envFile.value)) does not exist in the project") }
            let file = FileDescriptor(adopting: raw)
            guard (try file.stat().st_mode & S_IFMT) == S_IFREG else { throw problem("\(Printable.quoted(envFile.value)) is not a regular file") }
            let bytes = try file.readAll(limit: EnvFile.sizeLimit, path: root.display(envFile.value))
            guard let decoded = String(validating: bytes, as: UTF8.self) else { throw problem("\(Printable.quoted(envFile.value)) is not UTF-8 text") }
            text = decoded
        } catch let error as SystemError {
            throw problem("\(error)")
        }
        do {
            return try EnvFile.parse(text, path: envFile.value, host: host)
        } catch {
            throw problem("\(error)")
        }
    }
}
