import DevenvOCI
import Foundation
import Testing

@Suite struct OCIDocumentTests {
    static let digest = "sha256:" + String(repeating: "c", count: 64)
    static let manifestJSON = """
    {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
     "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(digest)","size":10},
     "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\(digest)","size":20}]}
    """

    @Test func parsesManifest() throws {
        guard case let .manifest(manifest) = try OCIDocument.parse(Data(Self.manifestJSON.utf8), declaredType: MediaType.imageManifest) else {
            Issue.record("expected a manifest")
            return
        }
        #expect(manifest.layers.count == 1)
        #expect(manifest.config.size == 10)
    }

    /// The transport's type and the body's type disagree.
    @Test func rejectsDeclaredTypeMismatch() {
        #expect(throws: OCIError.self) {
            try OCIDocument.parse(Data(Self.manifestJSON.utf8), declaredType: MediaType.imageIndex)
        }
    }

    /// A document with both manifests and layers, no mediaType (CVE-2021-41190).
    @Test func rejectsAmbiguousDocument() {
        let json = #"{"schemaVersion":2,"manifests":[],"layers":[],"config":{"mediaType":"a","digest":"\#(Self.digest)","size":1}}"#
        #expect(throws: OCIError.self) { try OCIDocument.parse(Data(json.utf8), declaredType: nil) }
    }

    /// Schema 1 manifests are refused, never converted.
    @Test func rejectsSchema1() {
        let json = #"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}"#
        #expect(throws: OCIError.self) { try OCIDocument.parse(Data(json.utf8), declaredType: nil) }
    }

    /// Unknown layer media types are not parsed.
    @Test func rejectsUnknownLayerType() {
        let json = Self.manifestJSON.replacingOccurrences(of: "application/vnd.oci.image.layer.v1.tar+gzip", with: "application/x-foo")
        #expect(throws: OCIError.self) { try OCIDocument.parse(Data(json.utf8), declaredType: nil) }
    }

    /// Negative sizes and absurd layer counts are refused.
    @Test func rejectsNegativeSizesAndTooManyLayers() {
        let negative = Self.manifestJSON.replacingOccurrences(of: "\"size\":20", with: "\"size\":-1")
        #expect(throws: OCIError.self) { try OCIDocument.parse(Data(negative.utf8), declaredType: nil) }
        let layer = #"{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\#(Self.digest)","size":1}"#
        let many = #"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(Self.digest)","size":1},"layers":[\#(Array(repeating: layer, count: 10_000).joined(separator: ","))]}"#
        do {
            _ = try OCIDocument.parse(Data(many.utf8), declaredType: nil)
            Issue.record("10,000 layers were accepted")
        } catch {
            #expect("\(error)".contains("limit of 125"))
        }
    }

    /// Oversized documents are refused before decoding.
    @Test func rejectsOversizedDocument() {
        let padding = String(repeating: "x", count: Int(OCIDocument.maxSize))
        let json = Self.manifestJSON.replacingOccurrences(of: "\"schemaVersion\":2", with: "\"schemaVersion\":2,\"annotations\":{\"p\":\"\(padding)\"}")
        #expect(throws: OCIError.self) { try OCIDocument.parse(Data(json.utf8), declaredType: nil) }
    }

    /// An embedded `data` field must match the digest.
    @Test func rejectsMismatchedDataField() throws {
        let data = Data("hello".utf8)
        var descriptor = Descriptor(mediaType: "x", digest: Digest.sha256(Data("other".utf8)), size: 5)
        descriptor.data = data.base64EncodedString()
        #expect(throws: OCIError.self) { try descriptor.validate(context: "test") }
        descriptor.digest = Digest.sha256(data)
        try descriptor.validate(context: "test")
    }

    @Test func indexSelectsHostPlatformOrListsWhatExists() throws {
        let digest = try Digest(parsing: Self.digest)
        let arm = Descriptor(mediaType: MediaType.imageManifest, digest: digest, size: 1, platform: Platform(architecture: "arm64", os: "linux"))
        let amd = Descriptor(mediaType: MediaType.imageManifest, digest: digest, size: 2, platform: Platform(architecture: "amd64", os: "linux"))
        let index = ImageIndex(manifests: [arm, amd])
        #expect(try index.manifest(for: Platform(architecture: "amd64", os: "linux")).size == 2)
        do {
            _ = try index.manifest(for: Platform(architecture: "s390x", os: "linux"))
            Issue.record("no error for a missing platform")
        } catch {
            #expect("\(error)".contains("linux/amd64"))
            #expect("\(error)".contains("linux/arm64"))
        }
    }

    @Test func encodingIsCanonical() throws {
        let config = ImageConfig(platform: Platform(architecture: "amd64", os: "linux"), diffIDs: [try Digest(parsing: Self.digest)])
        let first = OCIDocument.encode(config)
        #expect(first == OCIDocument.encode(config))
        let text = String(decoding: first, as: UTF8.self)
        #expect(text.contains("\"diff_ids\""))
        #expect(!text.contains("\\/"))
    }

    @Test func printableEscapesControlCharacters() {
        #expect(Printable.escape("a\u{1b}]0;pwned\u{07}\n") == "a\\x1b]0;pwned\\x07\\n")
        #expect(Printable.escape(bytes: [0x61, 0xff, 0xfe]) == "a\\xff\\xfe")
    }
}
