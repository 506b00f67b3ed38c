import DevenvOCI
import Foundation
import Testing

@Suite struct DigestTests {
    static let hex64 = String(repeating: "a", count: 64)

    @Test func parsesValidDigests() throws {
        let digest = try Digest(parsing: "sha256:\(Self.hex64)")
        #expect(digest.algorithm == .sha256)
        #expect(digest.encoded == Self.hex64)
        #expect(digest.description == "sha256:\(Self.hex64)")
        let long = try Digest(parsing: "sha512:" + String(repeating: "0", count: 128))
        #expect(long.algorithm == .sha512)
    }

    /// Malformed digests are rejected before any filesystem use.
    @Test(arguments: [
        "sha256:../../../../tmp/pwn",
        "sha256:" + String(repeating: "A", count: 64),
        "sha256:abc",
        "sha256:" + String(repeating: "a", count: 64) + "/x",
        "md5:" + String(repeating: "a", count: 32),
        "",
        "sha256",
        ":" + String(repeating: "a", count: 64),
        "sha256:" + String(repeating: "g", count: 64),
        "sha512:" + String(repeating: "a", count: 64),
    ])
    func rejectsMalformedDigests(text: String) {
        #expect(throws: OCIError.self) { try Digest(parsing: text) }
    }

    @Test func sha256OfKnownInput() {
        #expect(Digest.sha256(Data("abc".utf8)).description == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha256(Data()).description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func incrementalHashingMatchesOneShot() {
        var hasher = DigestHasher()
        let data = Data((0..<100_000).map { UInt8($0 % 251) })
        hasher.update(data.prefix(1000))
        hasher.update(data.dropFirst(1000))
        #expect(hasher.finalize() == Digest.sha256(data))
        #expect(hasher.count == 100_000)
    }

    @Test func decodingRejectsBadDigestInJSON() {
        let json = Data(#"{"mediaType":"x","digest":"sha256:../../etc","size":1}"#.utf8)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Descriptor.self, from: json) }
    }

    /// Chain ids are what snapshot directories are named after; a change here would orphan
    /// every snapshot in every store, so the values are pinned.
    @Test func chainIDsAreStable() throws {
        let a = Digest.sha256(Data("a".utf8))
        let b = Digest.sha256(Data("b".utf8))
        let chain = ChainID.compute([a, b])
        #expect(chain[0] == a)
        #expect(chain[1] == Digest.sha256(Data("\(a) \(b)".utf8)))
        #expect(chain[1].description == "sha256:" + "\(Digest.sha256(Data("\(a) \(b)".utf8)).encoded)")
    }
}
