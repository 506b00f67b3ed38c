import DevenvTestSupport
import Foundation
import Testing

/// The executables on a container start's path are static (Package.swift's `frontEndLinking`):
/// the front end, and devenv-init, which a rootless environment's init must exec. A dynamic
/// devenv-init cost a rootless project start 3-10 ms in the dynamic loader.
struct ExecutableLinkingTests {
    #if compiler(>=6.1)
    @Test(arguments: ["devenv", "devenv-init"])
    func startsWithoutADynamicLoader(_ name: String) throws {
        let path = try BuildProducts.executable(name)
        #expect(try !Self.hasInterpreter(path), "\(path) names a dynamic loader (PT_INTERP)")
    }
    #endif

    /// Whether the 64-bit little-endian ELF file at `path` has a PT_INTERP program header.
    static func hasInterpreter(_ path: String) throws -> Bool {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let header = try #require(try handle.read(upToCount: 64))
        #expect(header.count == 64 && header.prefix(4) == Data([0x7f, 0x45, 0x4c, 0x46]) && header[4] == 2, "\(path) is a 64-bit ELF file")
        func integer(_ data: Data, _ offset: Int, _ size: Int) -> Int {
            (0..<size).reduce(0) { $0 | Int(data[data.startIndex + offset + $1]) << ($1 * 8) }
        }
        let (offset, entrySize, count) = (integer(header, 32, 8), integer(header, 54, 2), integer(header, 56, 2))
        try handle.seek(toOffset: UInt64(offset))
        let table = try #require(try handle.read(upToCount: entrySize * count))
        return (0..<count).contains { integer(table, $0 * entrySize, 4) == 3 }
    }
}
