#if canImport(Glibc)
import Glibc
#endif

/// What an executable's ELF header says about how it starts.
public enum ExecutableImage {
    /// Whether the executable `descriptor` names starts without a program interpreter, so it
    /// can be exec'd from a root where the host's dynamic loader is not. False when it cannot
    /// be read or is not a 64-bit little-endian ELF image.
    public static func isStatic(descriptor: Int32) -> Bool {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        return isStatic(header: Array(bytes.prefix(count))) ?? false
    }

    /// The same from the image's first bytes (pure): nil when they are not a 64-bit
    /// little-endian ELF header followed by its program headers.
    public static func isStatic(header bytes: [UInt8]) -> Bool? {
        guard bytes.count >= 64, bytes[0..<4] == [0x7F, 0x45, 0x4C, 0x46], bytes[4] == 2, bytes[5] == 1 else { return nil }
        let tableOffset = Int(littleEndian(bytes, at: 32, size: 8))
        let entrySize = Int(littleEndian(bytes, at: 54, size: 2))
        let entries = Int(littleEndian(bytes, at: 56, size: 2))
        guard entrySize >= 4, tableOffset >= 64, tableOffset <= bytes.count,
              entries <= (bytes.count - tableOffset) / entrySize else { return nil }
        let interpreter: UInt64 = 3  // PT_INTERP
        return !(0..<entries).contains { littleEndian(bytes, at: tableOffset + $0 * entrySize, size: 4) == interpreter }
    }

    private static func littleEndian(_ bytes: [UInt8], at offset: Int, size: Int) -> UInt64 {
        (0..<size).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
}
