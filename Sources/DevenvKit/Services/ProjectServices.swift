import DevenvManifest
import DevenvRuntime
import DevenvStore
import DevenvSystem
import DevenvText
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A project's services in the store (docs/services.md): each runs in a container of its own
/// whose init supervises it, recorded like environments in `projects/<id>/services/` (the
/// record, its locks, the log and the state file), with named volumes in
/// `projects/<id>/volumes/NAME/`.
public struct ProjectServices: Sendable {
    public let root: String
    public let state: ProjectState

    public init(layout: StoreLayout, root: String) {
        self.init(state: ProjectState(layout: layout, root: root), root: root)
    }

    /// `root`: how the project is named (the checkout's directory).
    public init(state: ProjectState, root: String) {
        self.root = root
        self.state = state
    }

    public var directory: EnvironmentDirectory { EnvironmentDirectory(path: state.servicesPath) }
    public var logDirectory: String { state.servicesPath }

    public func volumePath(_ name: String) -> String { "\(state.volumesPath)/\(name)" }

    /// The running services' records by name (stale ones cleaned on the way).
    public func running() -> [String: EnvironmentRecord] {
        Dictionary(directory.running().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func state(of name: String) -> ServiceState? {
        ServiceState.read(service: name, in: logDirectory)
    }

    /// The directories the store keeps for services, made private to the user, before
    /// `service` starts.
    public func prepare(for service: String) throws {
        for path in [state.servicesPath, state.volumesPath] {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw KitError.service(name: service, problem: "create \(Printable.quoted(path)): \(error.localizedDescription)")
            }
        }
    }

    /// `-v` words for the service's volumes: a named volume's directory is created on first use;
    /// a working-tree directory is created when missing and must stay inside the project
    /// (a symlink in the tree cannot point a service at the host).
    public func volumeOptions(_ service: Manifest.Service) throws -> [String] {
        try service.volumes.map { volume in
            let source: String
            switch volume.source {
            case let .named(name):
                do {
                    source = try namedVolume(name)
                } catch let problem as VolumeProblem {
                    throw KitError.service(name: service.name, problem: problem.description)
                }
            case let .workingTree(relative):
                do {
                    source = try Self.workingTreePath(relative, in: root, create: true)
                } catch let problem as VolumeProblem {
                    throw KitError.service(name: service.name, problem: "volume \(problem)")
                }
            }
            return "\(source):\(volume.target)\(volume.readOnly ? ":ro" : "")"
        }
    }

    /// Why a volume or a working-tree path cannot be mounted (the caller names who asked).
    struct VolumeProblem: Error, CustomStringConvertible {
        let description: String
    }

    /// The named volume's directory, created on first use (with the store's volumes
    /// directory, private to the user); services and sessions share it.
    func namedVolume(_ name: String) throws -> String {
        let source = volumePath(name)
        // A failure here shows as the volume's own mkdir error below.
        try? FileManager.default.createDirectory(atPath: state.volumesPath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if mkdir(source, 0o755) != 0 && errno != EEXIST {
            throw VolumeProblem(description: "create volume \(Printable.quoted(source)): \(Errno.message(errno))")
        }
        return source
    }

    /// The working-tree path `relative` resolved, which must stay inside the project: a
    /// symlink in the tree cannot point a mount at the rest of the host. With `create`, a
    /// missing directory is made first (a service's data directory).
    static func workingTreePath(_ relative: String, in root: String, create: Bool) throws -> String {
        let path = relative.isEmpty ? root : "\(root)/\(relative)"
        if create { try createInside(relative, root: root) }
        guard let real = HostPath.real(path) else {
            throw VolumeProblem(description: "\(Printable.quoted(relative)): \(Errno.message(errno))")
        }
        try checkInside(real, relative: relative, root: root)
        return real
    }

    private static func checkInside(_ real: String, relative: String, root: String) throws {
        let realRoot = HostPath.real(root) ?? root
        guard real == realRoot || real.hasPrefix(realRoot + "/") else {
            throw VolumeProblem(description: "\(Printable.quoted(relative)) leads outside the project (to \(Printable.quoted(real))) through a symlink")
        }
    }

    /// Makes the missing directories of `relative` only below a part of it that is already
    /// inside the tree, one component at a time without following symlinks: a symlink the
    /// container planted in the tree must not make devenv create directories on the host.
    private static func createInside(_ relative: String, root: String) throws {
        let components = relative.split(separator: "/").map(String.init).filter { $0 != "." }
        guard !components.contains("..") else {
            throw VolumeProblem(description: "\(Printable.quoted(relative)): '..' is not allowed in a working-tree path")
        }
        var existing = components.count
        var info = stat()
        while existing > 0 && lstat(([root] + components[..<existing]).joined(separator: "/"), &info) != 0 { existing -= 1 }
        guard existing < components.count else { return }
        let prefix = ([root] + components[..<existing]).joined(separator: "/")
        guard let real = HostPath.real(prefix) else {
            throw VolumeProblem(description: "\(Printable.quoted(relative)): \(Errno.message(errno))")
        }
        try checkInside(real, relative: relative, root: root)
        var directory = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw VolumeProblem(description: "\(Printable.quoted(relative)): \(Errno.message(errno))") }
        defer { close(directory) }
        for component in components[existing...] {
            guard mkdirat(directory, component, 0o755) == 0 || errno == EEXIST,
                  case let next = openat(directory, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), next >= 0 else {
                throw VolumeProblem(description: "create \(Printable.quoted(relative)) in the working tree: \(Errno.message(errno))")
            }
            close(directory)
            directory = next
        }
    }

    /// Removes the named volumes `names` (files the service's users own included).
    public func removeVolumes(_ names: [String]) throws {
        for name in names {
            let path = volumePath(name)
            do {
                try DirectoryRemover.remove(path)
            } catch {
                throw KitError.volume(name: name, problem: "remove \(Printable.quoted(path)): \(error)")
            }
        }
    }

    /// The named volumes on disk.
    public func volumes() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: state.volumesPath)) ?? []).sorted()
    }

    /// Removes the state files of services that no longer run (`devenv down`), so `ps` stops
    /// showing how they ended; their logs stay for `devenv logs`.
    public func forgetStates() {
        let running = running()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: logDirectory)) ?? []
        for entry in entries where entry.hasSuffix(".state") && running[String(entry.dropLast(6))] == nil {
            unlink("\(logDirectory)/\(entry)")
        }
    }

    /// Services with a state file (running or not), sorted.
    public func stateNames() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: logDirectory)) ?? []
        return entries.filter { $0.hasSuffix(".state") && !$0.hasPrefix(".") }.map { String($0.dropLast(6)) }.sorted()
    }

    /// The log files of `name`, oldest first.
    public func logFiles(_ name: String) -> [String] {
        let current = "\(logDirectory)/\(ServiceState.logName(name))"
        return [current + ".1", current].filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The last `count` lines of the service's log, escaped for a terminal.
    public func lastLogLines(_ name: String, count: Int = 10) -> [String] {
        var lines: [Substring] = []
        for file in logFiles(name) {
            guard let bytes = try? FileDescriptor.readRegularFile(file, limit: 1 << 24, flags: O_NOFOLLOW) else { continue }
            lines += String(decoding: bytes.suffix(1 << 16), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.suffix(count).map { Printable.escape(String($0), limit: 500) }
    }
}
