import DevenvArchive
import DevenvBuild
import DevenvOCI
import DevenvPlan
import DevenvRuntime
import DevenvStore
import DevenvSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a bootstrap reports, for the command line to show.
public enum DistroBootstrapEvent: Sendable {
    /// Another devenv is bootstrapping the same base; this one waits for its result.
    case waiting(DistroBase)
    /// mmdebstrap starts; `log` is where its output goes when it is not shown.
    case started(DistroBase, log: String?)
    case finished(DistroBase, image: StoredImage, seconds: Double)
}

/// Builds a distro base with mmdebstrap and stores it as an ordinary OCI image, one layer per
/// package (docs/layers.md), named by the base's key, so a second project on the same base (or a second build)
/// finds it instead of bootstrapping again, and `devenv image export`/`push` treat it like
/// any image.
public struct DistroBootstrapper {
    public enum Output: Sendable {
        /// mmdebstrap's own progress on devenv's stderr (a terminal).
        case passthrough
        /// mmdebstrap's output to a log file; its tail is shown only on failure.
        case log
    }

    /// How mmdebstrap gets the privileges to create files owned by other users.
    enum Mode: String {
        case root
        /// A user namespace over the caller's subordinate ids (rootless).
        case unshare
    }

    public let store: ImageStore
    /// The lock's packages and versions, which a bootstrap installs exactly (a version the
    /// archive no longer serves is an error naming it and `source`); nil installs what the
    /// archive serves now.
    var pins: PackageInstaller.Pins?
    public var output: Output = .log
    public var events: (DistroBootstrapEvent) -> Void = { _ in }
    public var compression: LayerCompression = .zstd

    public init(store: ImageStore) { self.store = store }

    /// The base image for `base`: the stored one with its tag, else a fresh bootstrap
    /// (always a fresh one with `rebuild`). One process bootstraps a given base at a time;
    /// others wait and then reuse its result.
    public func image(for base: DistroBase, rebuild: Bool = false) throws -> StoredImage {
        let lockPath = "\(store.layout.locks)/distro-\(base.key.encoded.prefix(16)).lock"
        let lock = try FileLock(path: lockPath, onWait: { events(.waiting(base)) })
        defer { lock.unlock() }
        if !rebuild, let image = try? store.image(base.tag) {
            return image
        }
        return try bootstrap(base)
    }

    // MARK: Bootstrapping

    private func bootstrap(_ base: DistroBase) throws -> StoredImage {
        let mode = try Self.mode(for: HostIdentity.current())
        guard let mmdebstrap = Subprocess.find("mmdebstrap") else {
            throw DistroError(base: base, reason: "mmdebstrap is not installed", hint: "install it: apt-get install mmdebstrap")
        }
        let started = Date()
        return try store.withWriteAccess {
            let work = "\(store.layout.tmp)/distro-\(UUID().uuidString)"
            guard mkdir(work, 0o700) == 0 else { throw SystemError.last("mkdir", path: work) }
            defer { try? DirectoryRemover.remove(work) }
            let tarball = "\(work)/rootfs.tar"
            let archive = "\(work)/archive"
            guard mkdir(archive, 0o700) == 0 else { throw SystemError.last("mkdir", path: archive) }
            let preferences = try pins.map { pins in
                let path = "\(work)/devenv-lock.pref"
                try AtomicFile.write(Data(PackageInstaller.preferences(pins.packages).utf8), to: path)
                return path
            }
            let log = output == .log ? try openLog(base) : nil
            events(.started(base, log: log?.path))
            try run(mmdebstrap, Self.arguments(for: base, output: tarball, mode: mode, archive: archive, preferences: preferences),
                    base: base, directory: work, log: log)
            let snapshot = try readArchive(archive, base: base)
            if let pins { try Self.checkPins(pins, installed: snapshot.packages, base: base) }
            let image = try importLayer(tarball, base: base, archive: snapshot, work: work)
            events(.finished(base, image: image, seconds: Date().timeIntervalSince(started)))
            return image
        }
    }

    /// mmdebstrap's command line: everything explicit, so the host's mmdebstrap defaults
    /// cannot change the result. What the lock records of the archive (dpkg's status, the
    /// `InRelease` and `Packages` apt fetched) is copied to `archive` before mmdebstrap's
    /// cleanup removes the lists; `preferences`, an apt preferences file, pins the versions
    /// while apt resolves and leaves no trace in the image.
    static func arguments(for base: DistroBase, output: String, mode: Mode, archive: String, preferences: String? = nil) -> [String] {
        var arguments = ["--mode=\(mode.rawValue)", "--format=tar", "--variant=\(base.variant)"]
        if base.family == .ubuntu {
            arguments.append("--components=main,universe")
        }
        // apt in the image needs the CA certificates to use an https mirror later (the key
        // already covers this: the mirror is one of its inputs).
        let certificates = base.mirror.hasPrefix("https://") ? ["ca-certificates"] : []
        let include = Array(Set(base.packages + certificates)).sorted()
        if !include.isEmpty {
            arguments.append("--include=\(include.joined(separator: ","))")
        }
        if base.snapshot != nil {
            // A snapshot's Release file expired long ago by design. mmdebstrap keeps
            // --aptopt settings in the image, so later package steps work too.
            arguments.append("--aptopt=Acquire::Check-Valid-Until \"false\"")
        }
        arguments.append("--aptopt=Acquire::Retries \"3\"")
        // Special hooks (mmdebstrap reads and writes the host's side itself), so they work
        // in unshare mode too, where the namespace's root cannot enter devenv's directories.
        if let preferences {
            arguments.append("--setup-hook=upload \(RunStep.shellQuote(preferences)) /etc/apt/preferences.d/devenv-lock")
            arguments.append("--customize-hook=rm -f \"$1/etc/apt/preferences.d/devenv-lock\"")
        }
        arguments.append("--customize-hook=copy-out /var/lib/dpkg/status /var/lib/apt/lists \(RunStep.shellQuote(archive))")
        // The host's resolver and name have no place in a shared image.
        arguments.append("--customize-hook=rm -f \"$1/etc/resolv.conf\" \"$1/etc/hostname\"")
        arguments += [base.suite, output, base.mirror]
        return arguments
    }

    static func environment(for base: DistroBase) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["SOURCE_DATE_EPOCH"] = String(base.sourceDateEpoch)
        environment["LC_ALL"] = "C.UTF-8"
        environment.removeValue(forKey: "LANGUAGE")
        return environment
    }

    /// Root bootstraps directly; anyone else needs 65536 subordinate ids and the helpers
    /// to map them, which is what mmdebstrap's unshare mode builds its namespace from.
    static func mode(for host: HostIdentity) throws -> Mode {
        if host.isRoot { return .root }
        let uids = host.subordinateUIDs.reduce(0) { $0 + Int($1.count) }
        let gids = host.subordinateGIDs.reduce(0) { $0 + Int($1.count) }
        guard host.hasMappingHelpers, uids >= 65536, gids >= 65536 else {
            let missing = !host.hasMappingHelpers ? "newuidmap/newgidmap are not installed"
                : "user '\(Printable.escape(host.name))' has \(uids) subordinate uids and \(gids) gids in /etc/subuid and /etc/subgid; mmdebstrap needs 65536 of each"
            throw DistroError(base: nil, reason: "a rootless bootstrap cannot run: \(missing)",
                              hint: "as root: apt-get install uidmap; usermod --add-subuids 100000-165535 --add-subgids 100000-165535 \(Printable.escape(host.name)) -- or run devenv as root")
        }
        return .unshare
    }

    private func run(_ executable: String, _ arguments: [String], base: DistroBase, directory: String, log: (path: String, handle: FileHandle)?) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = Self.environment(for: base)
        // mmdebstrap reads a mirror argument naming an existing file as a sources list:
        // an empty directory makes sure none does.
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = FileHandle.nullDevice
        if let log {
            process.standardOutput = log.handle
            process.standardError = log.handle
        } else {
            process.standardOutput = FileHandle.standardError
            process.standardError = FileHandle.standardError
        }
        do {
            try process.run()
        } catch {
            throw DistroError(base: base, reason: "cannot start \(executable): \(error.localizedDescription)", hint: nil)
        }
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let status = process.terminationReason == .exit ? "exit status \(process.terminationStatus)" : "signal \(process.terminationStatus)"
            throw DistroError(base: base, reason: "mmdebstrap failed (\(status))", hint: failureHint(base), log: log?.path)
        }
    }

    /// A fresh log per bootstrap, kept next to the store's other state for inspection.
    private func openLog(_ base: DistroBase) throws -> (path: String, handle: FileHandle) {
        let directory = "\(store.layout.root)/distro"
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else { throw SystemError.last("mkdir", path: directory) }
        let path = "\(directory)/bootstrap-\(base.key.encoded.prefix(12)).log"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SystemError.last("open", path: path) }
        return (path, FileHandle(fileDescriptor: fd, closeOnDealloc: true))
    }

    private func failureHint(_ base: DistroBase) -> String {
        let keyring = "/usr/share/keyrings/\(base.family.rawValue)-archive-keyring.gpg"
        if access(keyring, R_OK) != 0 {
            return "\(keyring) is missing, so the archive's signatures cannot be checked: apt-get install \(base.family.rawValue)-keyring"
                + (base.family == .debian ? " (the package is debian-archive-keyring)" : "")
        }
        return "check that \(base.mirror) serves suite '\(base.suite)' and that every package in [base] packages exists there"
    }

    // MARK: The image

    /// The tarball becomes a layer, its bytes kept exactly, then one layer per package
    /// (`packageLayers`); the config says when (SOURCE_DATE_EPOCH) and from what the layers
    /// were made.
    private func importLayer(_ tarball: String, base: DistroBase, archive: ArchiveSnapshot, work: String) throws -> StoredImage {
        let output = "\(store.layout.ingest)/\(UUID().uuidString).layer"
        defer { unlink(output) }
        let layer = try LayerWriter.recompress(tarAt: tarball, to: output, compression: compression)
        try store.content.adoptVerified(file: output, digest: layer.digest)
        let created = Self.timestamp(base.sourceDateEpoch)
        var labels = [
            "dev.devenv.distro": base.name,
            "dev.devenv.distro.variant": base.variant,
            "dev.devenv.distro.mirror": base.mirror,
            "dev.devenv.distro.key": base.key.description,
        ]
        if let snapshot = base.snapshot { labels["dev.devenv.distro.snapshot"] = snapshot }
        if !base.packages.isEmpty { labels["dev.devenv.distro.packages"] = base.packages.joined(separator: " ") }
        labels.merge(archive.labels) { first, _ in first }
        let run = ImageConfig.RunConfig(env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                                        cmd: ["/bin/bash"], labels: labels)
        let createdBy = "devenv: mmdebstrap --variant=\(base.variant) \(base.suite) \(base.mirror)"
            + (base.packages.isEmpty ? "" : " --include=\(base.packages.joined(separator: ","))")
        let descriptor = Descriptor(mediaType: layer.mediaType, digest: layer.digest, size: layer.size)
        let layers = try packageLayers(of: descriptor, diffID: layer.diffID, base: base, work: work)
            ?? [StepLayer(descriptor: descriptor, diffID: layer.diffID)]
        let history = layers.map { ImageConfig.History(created: created, createdBy: createdBy, comment: $0.comment) }
        var config = ImageConfig(config: run, diffIDs: layers.map(\.diffID), history: history, created: created)
        config.author = "devenv"
        return try store.commitImage(name: base.tag, config: config, layers: layers.map(\.descriptor))
    }

    /// What the bootstrap copied out (`arguments`): dpkg's status, and apt's lists with the
    /// `InRelease` of the suite and the `Packages` indexes.
    private func readArchive(_ directory: String, base: DistroBase) throws -> ArchiveSnapshot {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/lists")) ?? []).sorted().map { "lists/\($0)" }
        func read(_ name: String, limit: Int) throws -> [UInt8] {
            try FileDescriptor.readRegularFile("\(directory)/\(name)", limit: limit, operation: "read what the bootstrap installed")
        }
        guard access("\(directory)/status", F_OK) == 0 else {
            throw DistroError(base: base, reason: "mmdebstrap left no dpkg status to lock", hint: nil)
        }
        let status = String(decoding: try read("status", limit: PackageResolution.statusLimit), as: UTF8.self)
        // mmdebstrap gets one mirror and suite, hence one InRelease; the suite's own if several.
        let releases = names.filter { $0.hasSuffix("_InRelease") }
        let release = try (releases.first { $0.hasSuffix("_dists_\(base.suite)_InRelease") } ?? releases.first).map { try read($0, limit: ArchiveSnapshot.releaseLimit) }
        let indexes = try names.filter { $0.hasSuffix("_Packages") }.map { String(decoding: try read($0, limit: PackageResolution.indexLimit), as: UTF8.self) }
        return ArchiveSnapshot(suite: base.suite, status: status, inRelease: release, indexes: indexes)
    }

    /// A pinned bootstrap that did not install a locked version: the archive no longer serves it.
    static func checkPins(_ pins: PackageInstaller.Pins, installed: [LockedPackage], base: DistroBase) throws {
        let unserved = ArchiveSnapshot.unserved(locked: pins.packages, installed: installed)
        guard !unserved.isEmpty else { return }
        let names = unserved.map { locked, now in
            "\(Printable.escape(locked.name)) \(Printable.escape(locked.version)) (" + (now.map { "it has \(Printable.escape($0.version))" } ?? "not installed now") + ")"
        }
        throw LockError(message: """
            bootstrap \(Printable.escape(base.name)): the archive no longer serves these locked versions: \(names.joined(separator: ", "))
            .devenv/devenv.lock resolved them from \(pins.source)
            hint: run `devenv lock` to bootstrap the base from the archive as it is now, or pin the archive with [base] snapshot
            """)
    }

    static func timestamp(_ epoch: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }
}

/// A distro base that could not be made, with what to do about it.
public struct DistroError: Error, CustomStringConvertible, Sendable {
    public var base: String?
    public var reason: String
    public var hint: String?
    /// The tail of mmdebstrap's log when its output was not shown.
    public var logTail: String?
    public var log: String?

    init(base: DistroBase?, reason: String, hint: String?, log: String? = nil) {
        self.base = base.map { "\($0.name) (\($0.variant), from \($0.mirror))" }
        self.reason = reason
        self.hint = hint
        self.log = log
        logTail = log.flatMap(Self.tail)
    }

    public var description: String {
        var text = base.map { "bootstrap \(Printable.escape($0)): " } ?? "bootstrap: "
        text += reason
        if let logTail, let log { text += "\n--- last lines of \(Printable.escape(log)) ---\n\(logTail)" }
        if let hint { text += "\nhint: \(hint)" }
        return text
    }

    /// The last 20 lines, escaped: the log holds what the network sent.
    static func tail(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return nil }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        return lines.suffix(21).map { Printable.escape(String($0), limit: 300) }.joined(separator: "\n")
            .trimmingCharacters(in: .newlines)
    }
}
