@testable import DevenvKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Importing the same root filesystem twice gives the same image: its creation time is
/// SOURCE_DATE_EPOCH, else the source's modification time, never the clock.
@Suite struct ImageImportDeterminismTests {
    @Test func theCreationTimeComesFromTheSource() throws {
        let path = NSTemporaryDirectory() + "import-date-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
        defer { unlink(path) }
        var times = [timespec(tv_sec: 1_600_000_000, tv_nsec: 0), timespec(tv_sec: 1_600_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        #expect(ImageImporter.creationDate(of: path, environment: [:]) == Date(timeIntervalSince1970: 1_600_000_000))
        #expect(ImageImporter.creationDate(of: path, environment: ["SOURCE_DATE_EPOCH": "1700000000"]) == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(ImageImporter.creationDate(of: path, environment: ["SOURCE_DATE_EPOCH": "soon"]) == Date(timeIntervalSince1970: 1_600_000_000))
    }
}
