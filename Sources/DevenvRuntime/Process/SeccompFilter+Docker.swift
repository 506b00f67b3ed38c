import DevenvSeccomp
import DevenvSystem
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

extension SeccompFilter {
    private static let cache = Lock()
    nonisolated(unsafe) private static var compiled: [UInt64: SeccompFilter] = [:]

    /// Docker's default seccomp policy for a process whose bounding set is `capabilities`,
    /// compiled with libseccomp (DevenvSeccomp) here in the parent; the container's init only
    /// loads the bytes, last, right before execve.
    ///
    /// Compiling takes libseccomp tens of milliseconds, more than the rest of a container
    /// start, so the result is kept per process and, with `cacheDirectory`, on disk (see
    /// `SeccompFilterCache`).
    public static func dockerDefault(capabilities: CapabilitySet = .containerDefault, cacheDirectory: String? = nil) throws -> SeccompFilter {
        cache.lock()
        defer { cache.unlock() }
        if let filter = compiled[capabilities.bitmask] { return filter }
        let diskCache = cacheDirectory.map { SeccompFilterCache(directory: $0, capabilities: capabilities) }
        if let filter = diskCache?.load() {
            compiled[capabilities.bitmask] = filter
            return filter
        }
        do {
            let profile = try SeccompProfile.dockerDefault(capabilities: capabilities)
            let filter = SeccompFilter(bytes: try SeccompCompiler.compile(profile).bytes)
            compiled[capabilities.bitmask] = filter
            diskCache?.store(filter)
            return filter
        } catch {
            throw RuntimeError(.setup, "compile seccomp filter: \(error)")
        }
    }

    /// `$XDG_CACHE_HOME/devenv` (default `~/.cache/devenv`), or /var/cache/devenv for root.
    public static func defaultCacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if geteuid() == 0 { return "/var/cache/devenv" }
        if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") { return cache + "/devenv" }
        guard let home = environment["HOME"], home.hasPrefix("/") else { return nil }
        return home + "/.cache/devenv"
    }
}

/// Compiled default filters on disk, keyed by everything that determines the bytes: the
/// devenv executable (which carries the policy), the libseccomp version, the capabilities and
/// the architecture. A file that is not the user's own, is writable by others, fails its
/// checksum or is not a valid filter is ignored and rewritten.
struct SeccompFilterCache {
    let directory: String
    let capabilities: CapabilitySet

    var path: String {
        var executable = stat()
        _ = stat("/proc/self/exe", &executable)
        let identity = "v1|\(SeccompArchitecture.native?.rawValue ?? 0)|\(SeccompCompiler.libseccompVersion)|\(executable.st_dev):\(executable.st_ino):\(executable.st_size):\(executable.st_mtim.tv_sec).\(executable.st_mtim.tv_nsec)"
        return directory + "/seccomp-" + String(capabilities.bitmask, radix: 16) + "-" + String(Self.checksum(Array(identity.utf8)), radix: 16) + ".bpf"
    }

    func load() -> SeccompFilter? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid(),
              info.st_mode & 0o022 == 0, info.st_size > 8, info.st_size <= 8 * 4097,
              let bytes = try? FileDescriptor.readAll(descriptor), bytes.count == Int(info.st_size) else { return nil }
        let program = Array(bytes.dropLast(8))
        let stored = bytes.suffix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard program.count % 8 == 0, Self.checksum(program) == stored,
              let instructions = try? BPFInstruction.decode(program), (try? SeccompSimulator.validate(instructions)) != nil else { return nil }
        return SeccompFilter(bytes: program)
    }

    /// Best effort: a cache that cannot be written only costs the next start a compile.
    func store(_ filter: SeccompFilter) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let sum = Self.checksum(filter.bytes)
            let trailer = (0..<8).map { UInt8(truncatingIfNeeded: sum >> (8 * UInt64($0))) }
            try AtomicFile.write(Data(filter.bytes + trailer), to: path, mode: 0o600)
        } catch {
            return
        }
    }

    /// FNV-1a, 64 bits: catches a truncated or corrupted file (not an attacker, who as the
    /// same user could replace devenv itself).
    static func checksum(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}
