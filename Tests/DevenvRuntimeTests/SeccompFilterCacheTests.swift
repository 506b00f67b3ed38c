@testable import DevenvRuntime
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SeccompFilterCacheTests {
    func withDirectory(_ body: (String) throws -> Void) throws {
        let directory = NSTemporaryDirectory() + "devenv-seccomp-cache-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    @Test func compiledFilterRoundTripsThroughTheCache() throws {
        try withDirectory { directory in
            let filter = try SeccompFilter.dockerDefault()
            #expect(filter.instructionCount > 100)
            let cache = SeccompFilterCache(directory: directory, capabilities: .dockerDefault)
            #expect(cache.load() == nil)
            cache.store(filter)
            #expect(cache.load() == filter)
            // Another capability set is another file.
            #expect(SeccompFilterCache(directory: directory, capabilities: [.chown]).load() == nil)
        }
    }

    @Test func damagedOrForeignFilesAreIgnored() throws {
        try withDirectory { directory in
            let cache = SeccompFilterCache(directory: directory, capabilities: .dockerDefault)
            cache.store(try SeccompFilter.dockerDefault())
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cache.path)))
            bytes[40] ^= 0xff
            try Data(bytes).write(to: URL(fileURLWithPath: cache.path))
            #expect(cache.load() == nil)
            cache.store(try SeccompFilter.dockerDefault())
            #expect(cache.load() != nil)
            chmod(cache.path, 0o666)
            #expect(cache.load() == nil)
            try Data(bytes.prefix(13)).write(to: URL(fileURLWithPath: cache.path))
            chmod(cache.path, 0o600)
            #expect(cache.load() == nil)
        }
    }
}
