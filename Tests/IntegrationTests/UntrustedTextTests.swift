@testable import DevenvTestSupport
import Foundation
import Testing

/// Issue 11 item 11: terminal control sequences in a Dockerfile's FROM or USER, a
/// devcontainer.json `image`, or a layer entry's path reach the real binary's stderr
/// escaped, never as raw ESC or BEL bytes.
@Suite struct UntrustedTextTests {
    /// CSI (colour), OSC (window title, ended by BEL) and a bare BEL.
    static let hostile = "\u{1b}[31m\u{1b}]0;pwned\u{07}"

    static func expectEscaped(_ result: DevenvProcess.Result, mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let output = Array((result.stdout + result.stderr).utf8)
        #expect(result.status != 0, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(!output.contains(0x1b) && !output.contains(0x07), "raw control bytes in: \(result.stderr.debugDescription)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(text), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains("\\x1b]0;pwned\\x07"), "\(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        ("FROM \(hostile)bad\n", "invalid image reference"),
        ("FROM busybox:\(hostile)\n", "invalid image reference"),
        ("FROM scratch\nUSER \(hostile)\nRUN true\n", "is not in the image's /etc/passwd"),
    ])
    func dockerfileValues(dockerfile: String, message: String) throws {
        let scratch = try Scratch()
        let project = scratch.file("project")
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        try dockerfile.write(toFile: "\(project)/Dockerfile", atomically: true, encoding: .utf8)
        let result = try DevenvProcess.devenv(["build", "--file", "Dockerfile"], store: scratch.file("store"), directory: project)
        Self.expectEscaped(result, mentioning: message)
    }

    @Test func devcontainerImage() throws {
        let scratch = try Scratch()
        let project = scratch.file("project")
        try FileManager.default.createDirectory(atPath: "\(project)/.devcontainer", withIntermediateDirectories: true)
        let image = String(decoding: try JSONEncoder().encode("busybox\(Self.hostile)"), as: UTF8.self)
        try #"{ "image": \#(image) }"#.write(toFile: "\(project)/.devcontainer/devcontainer.json", atomically: true, encoding: .utf8)
        let result = try DevenvProcess.devenv(["build"], store: scratch.file("store"), directory: project)
        Self.expectEscaped(result, mentioning: "devcontainer.json:1:12: invalid image reference")
    }

    @Test func referenceOnTheCommandLine() throws {
        let scratch = try Scratch()
        let result = try DevenvProcess.devenv(["run", "--image", "busybox:\(Self.hostile)", "--", "true"], store: scratch.file("store"))
        Self.expectEscaped(result, mentioning: "invalid image reference")
    }

    @Test func layerEntryPathInAnUnpackError() throws {
        let scratch = try Scratch()
        // A tar whose only entry climbs out of the root through a name full of escapes.
        var header = [UInt8](repeating: 0, count: 512)
        let name = Array("../\(Self.hostile)x".utf8)
        header.replaceSubrange(0..<name.count, with: name)
        for (offset, field) in [(100, "0000644\0"), (108, "0000000\0"), (116, "0000000\0"), (124, "00000000001\0"), (136, "00000000000\0")] {
            header.replaceSubrange(offset..<(offset + field.utf8.count), with: Array(field.utf8))
        }
        header[156] = UInt8(ascii: "0")
        header.replaceSubrange(257..<263, with: Array("ustar\0".utf8))
        header.replaceSubrange(263..<265, with: Array("00".utf8))
        header.replaceSubrange(148..<156, with: Array("        ".utf8))
        let checksum = header.reduce(0) { $0 + Int($1) }
        header.replaceSubrange(148..<156, with: Array((String(checksum, radix: 8).leftPad(6) + "\0 ").utf8))
        var tar = header + [UInt8(ascii: "x")] + [UInt8](repeating: 0, count: 511)
        tar += [UInt8](repeating: 0, count: 1024)
        try Data(tar).write(to: URL(fileURLWithPath: scratch.file("evil.tar")))
        let result = try DevenvProcess.devenv(["layer", "unpack", scratch.file("evil.tar"), scratch.file("out")], store: scratch.file("store"))
        Self.expectEscaped(result, mentioning: "climbs above the root")
    }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
