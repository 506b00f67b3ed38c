@testable import DevenvArchive
import DevenvOCI
import Testing

/// The pure policies: name normalisation (C1), whiteout names (D1) and format sniffing (A7).
@Suite struct EntryPathTests {
    static func components(_ text: String) throws -> [String] {
        try EntryPath.normalise(Array(text.utf8)).components.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test(arguments: [
        ("etc/passwd", ["etc", "passwd"]), ("/etc/x", ["etc", "x"]), ("./a//b/", ["a", "b"]), ("safe/../pwned.txt", ["pwned.txt"]),
        ("a/b/../../c", ["c"]), (".", []), ("./", []), ("/", []), ("", []), ("...", ["..."]), (".wh.x/..", []),
    ])
    func normalisesInsideTheRoot(_ name: String, _ expected: [String]) throws {
        #expect(try Self.components(name) == expected)
    }

    @Test(arguments: ["..", "../x", "/../x", "a/../../x", "a/b/../../../x", "./.././x"])
    func refusesClimbingAboveTheRoot(_ name: String) {
        #expect(throws: Failure.self) { try EntryPath.normalise(Array(name.utf8)) }
    }

    @Test func keepsNonUTF8Bytes() throws {
        #expect(try EntryPath.normalise([0xff, 0x2f, 0xfe]).components == [[0xff], [0xfe]])
    }

    @Test(arguments: [
        ("passwd", WhiteoutName.none), (".wh..wh..opq", .opaque), (".wh..wh.plnk", .aufsMetadata),
        (".wh.passwd", .whiteout(Array("passwd".utf8))), (".wh....", .whiteout(Array("...".utf8))), (".whx", .none),
    ])
    func classifiesWhiteoutNames(_ name: String, _ expected: WhiteoutName) throws {
        #expect(try WhiteoutName.classify(Array(name.utf8)) == expected)
    }

    @Test(arguments: [".wh.", ".wh..", ".wh..."])
    func refusesWhiteoutsOfTheDirectoryOrItsParent(_ name: String) {
        #expect(throws: Failure.self) { try WhiteoutName.classify(Array(name.utf8)) }
    }

    @Test func sniffsMagicBytes() {
        var ustar = [UInt8](repeating: 0, count: 512)
        ustar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        ustar[0] = 0x61
        #expect(FormatSniffer.sniff([0x1f, 0x8b, 8, 0]) == .gzip)
        #expect(FormatSniffer.sniff([0x28, 0xb5, 0x2f, 0xfd, 0]) == .zstd)
        #expect(FormatSniffer.sniff([0x50, 0x2a, 0x4d, 0x18, 0]) == .zstd)
        #expect(FormatSniffer.sniff(ustar) == LayerCompression.none)
        #expect(FormatSniffer.sniff([UInt8](repeating: 0, count: 512)) == LayerCompression.none)
        #expect(FormatSniffer.sniff(Array("PK\u{3}\u{4}".utf8) + [UInt8](repeating: 0, count: 508)) == nil)
        #expect(FormatSniffer.sniff(Array("BZh9".utf8)) == nil)
        #expect(FormatSniffer.sniff([0x1f]) == nil)
    }

    @Test func acceptsAV7HeaderByChecksum() {
        var tar = TarBuilder()
        tar.file("v7", Array("x".utf8))
        var header = Array(tar.bytes.prefix(512))
        header.replaceSubrange(257..<265, with: [UInt8](repeating: 0, count: 8))   // no magic
        var sum = 0
        for index in 0..<512 { sum += (148..<156).contains(index) ? 0x20 : Int(header[index]) }
        let octal = Array(String(sum, radix: 8).utf8)
        header.replaceSubrange(148..<156, with: [UInt8](repeating: 0x30, count: 6 - octal.count) + octal + [0, 0x20])
        #expect(FormatSniffer.sniff(header) == LayerCompression.none)
        header[0] ^= 1
        #expect(FormatSniffer.sniff(header) == nil)
    }
}
