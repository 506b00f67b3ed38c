import DevenvSystem
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Whether an executable needs a program interpreter decides whether a rootless keeper may be
/// exec'd from inside the container (where the host's loader is not).
@Suite struct ExecutableImageTests {
    /// A 64-bit little-endian ELF header with `types` as its program headers (56 bytes each, at 64).
    static func image(_ types: [UInt32]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 64 + 56 * types.count)
        bytes.replaceSubrange(0..<6, with: [0x7F, 0x45, 0x4C, 0x46, 2, 1])
        bytes[32] = 64
        bytes[54] = 56
        bytes[56] = UInt8(types.count)
        for (index, type) in types.enumerated() {
            for byte in 0..<4 { bytes[64 + 56 * index + byte] = UInt8(truncatingIfNeeded: type >> (8 * UInt32(byte))) }
        }
        return bytes
    }

    @Test func anInterpreterHeaderMakesItDynamic() {
        #expect(ExecutableImage.isStatic(header: Self.image([6, 1, 1, 2])) == true)
        #expect(ExecutableImage.isStatic(header: Self.image([6, 3, 1, 1, 2])) == false)
    }

    @Test func whatIsNoELFImageIsNeverTakenForStatic() {
        #expect(ExecutableImage.isStatic(header: Array("#!/bin/sh\necho hi\n".utf8)) == nil)
        var thirtyTwoBit = Self.image([1])
        thirtyTwoBit[4] = 1
        #expect(ExecutableImage.isStatic(header: thirtyTwoBit) == nil)
        // Program headers that run past the bytes read.
        var truncated = Self.image([1, 1])
        truncated[56] = 200
        #expect(ExecutableImage.isStatic(header: truncated) == nil)
    }

    @Test func realExecutables() throws {
        let dynamic = try FileDescriptor.openRaw("/bin/dash", O_RDONLY | O_CLOEXEC)
        defer { close(dynamic) }
        #expect(!ExecutableImage.isStatic(descriptor: dynamic))
        // busybox-static (.ci/install-deps).
        let descriptor = try FileDescriptor.openRaw("/usr/bin/busybox", O_RDONLY | O_CLOEXEC)
        defer { close(descriptor) }
        #expect(ExecutableImage.isStatic(descriptor: descriptor))
    }
}
