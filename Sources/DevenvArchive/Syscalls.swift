import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Linux constants Swift's Glibc module hides behind _GNU_SOURCE.
enum Linux {
    static let pathMax = 4096
    /// Longest path handed to one openat2 call; longer paths are resolved in pieces.
    static let resolveChunk = 3072
    /// libzstd's default decoder window limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT, 128 MiB).
    static let zstdWindowLogLimit: Int32 = 27
    /// The largest device numbers the kernel's dev_t encoding carries (12-bit major, 20-bit minor).
    static let maxDeviceMajor: UInt64 = 0xfff
    static let maxDeviceMinor: UInt64 = 0xfffff
}

func devenvErrno() -> Int32 { Glibc.errno }

/// Copies a NUL-terminated C string into bytes.
func bytes(of cString: UnsafePointer<CChar>) -> [UInt8] {
    let length = strlen(cString)
    return cString.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
}

/// The mode bits the process umask removes, read without changing it (umask(2) would race
/// with other threads creating files).
func currentUmask() -> mode_t {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0o022 }
    for line in status.split(separator: "\n") where line.hasPrefix("Umask:") {
        return mode_t(line.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8) ?? 0o022
    }
    return 0o022
}

/// True when this process runs in the initial user namespace (uid_map is the identity over
/// the whole range), where CAP_MKNOD allows real device nodes.
func inInitialUserNamespace() -> Bool {
    guard let map = try? String(contentsOfFile: "/proc/self/uid_map", encoding: .utf8) else { return true }
    return map.split(whereSeparator: { $0 == " " || $0 == "\n" }) == ["0", "0", "4294967295"]
}

/// The number of ids `/proc/self/FILE` maps (`uid_map` or `gid_map`), nil if unreadable.
func mappedIDCount(_ file: String) -> UInt64? {
    guard let map = try? String(contentsOfFile: "/proc/self/\(file)", encoding: .utf8) else { return nil }
    return map.split(separator: "\n").reduce(0) { total, line in
        total + (line.split(separator: " ", omittingEmptySubsequences: true).last.flatMap { UInt64($0) } ?? 0)
    }
}

/// Whether `id` is one of the ids `/proc/self/FILE` maps; true when the map is unreadable.
func isMapped(_ id: UInt32, in file: String) -> Bool {
    guard let map = try? String(contentsOfFile: "/proc/self/\(file)", encoding: .utf8) else { return true }
    return map.split(separator: "\n").contains { line in
        let fields = line.split(separator: " ", omittingEmptySubsequences: true).compactMap { UInt64($0) }
        return fields.count == 3 && UInt64(id) >= fields[0] && UInt64(id) < fields[0] + fields[2]
    }
}

/// Sets the calling thread's LC_CTYPE to C.UTF-8 while `body` runs. libarchive converts PAX
/// names between UTF-8 and the current locale; under "C" it warns about non-ASCII names and
/// its writer output would depend on the process locale. A per-thread locale keeps names
/// byte-exact and layer digests independent of the user's environment.
func withUTF8Locale<R>(_ body: () throws -> R) rethrows -> R {
    guard let locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil) else { return try body() }
    let previous = uselocale(locale)
    defer {
        uselocale(previous)
        freelocale(locale)
    }
    return try body()
}
