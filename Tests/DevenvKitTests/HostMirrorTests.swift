import Foundation
import Testing
@testable import DevenvKit

/// The host's apt mirror, from deb822 `.sources` files and one-line `sources.list`.
@Suite struct HostMirrorTests {
    static let debianSources = """
        Types: deb
        # http://snapshot.debian.org/archive/debian/20250520T000000Z
        URIs: http://deb.debian.org/debian
        Suites: bookworm bookworm-updates
        Components: main
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

        Types: deb
        URIs: http://deb.debian.org/debian-security
        Suites: bookworm-security
        Components: main
        """

    @Test func deb822Stanzas() {
        let sources = HostMirror.parseDeb822(Self.debianSources)
        #expect(sources.map(\.uri) == ["http://deb.debian.org/debian", "http://deb.debian.org/debian-security"])
        #expect(sources[0].suites == ["bookworm", "bookworm-updates"] && sources[0].components == ["main"])
    }

    @Test func deb822SkipsSourceOnlyAndDisabledStanzas() {
        let text = """
            Types: deb-src
            URIs: http://src.example/debian
            Suites: bookworm
            Components: main

            Types: deb
            Enabled: no
            URIs: http://off.example/debian
            Suites: bookworm
            Components: main

            Types: deb deb-src
            URIs:
             http://continued.example/debian
            Suites: bookworm
            Components: main contrib
            """
        let sources = HostMirror.parseDeb822(text)
        #expect(sources == [HostMirror.Source(uri: "http://continued.example/debian", suites: ["bookworm"], components: ["main", "contrib"])])
    }

    @Test func oneLineEntriesWithOptionsAndComments() {
        let text = """
            # deb http://commented.example/debian bookworm main
            deb-src http://src.example/debian bookworm main
            deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://opts.example/debian bookworm main contrib # trailing
            deb http://plain.example/debian/ trixie main
            """
        let sources = HostMirror.parseOneLine(text)
        #expect(sources.map(\.uri) == ["http://opts.example/debian", "http://plain.example/debian/"])
        #expect(sources[0].suites == ["bookworm"] && sources[0].components == ["main", "contrib"])
    }

    @Test func choosesTheDistributionsOwnArchive() {
        let sources = [
            HostMirror.Source(uri: "https://download.docker.com/linux/debian", suites: ["bookworm"], components: ["stable"]),
            HostMirror.Source(uri: "cdrom:[Debian 12]/", suites: ["bookworm"], components: ["main"]),
            HostMirror.Source(uri: "http://deb.debian.org/debian-security", suites: ["bookworm-security"], components: ["main"]),
            HostMirror.Source(uri: "http://mirror.example/debian/", suites: ["bookworm"], components: ["main"]),
        ]
        #expect(HostMirror.choose(sources, codename: "bookworm") == "http://mirror.example/debian")
        // Without a codename to match, the first usable source.
        #expect(HostMirror.choose(sources, codename: nil) == "https://download.docker.com/linux/debian")
        #expect(HostMirror.choose([], codename: "bookworm") == nil)
    }

    @Test func detectReadsTheHostConfigurationForTheSameDistributionOnly() throws {
        let root = NSTemporaryDirectory() + "host-mirror-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/etc/apt/sources.list.d", withIntermediateDirectories: true)
        try "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_CODENAME=bookworm\n".write(toFile: "\(root)/etc/os-release", atomically: true, encoding: .utf8)
        try Self.debianSources.write(toFile: "\(root)/etc/apt/sources.list.d/debian.sources", atomically: true, encoding: .utf8)
        try "deb http://other.example/debian bookworm main\n".write(toFile: "\(root)/etc/apt/sources.list", atomically: true, encoding: .utf8)
        #expect(HostMirror.detect(for: .debian, root: root) == "http://deb.debian.org/debian")
        #expect(HostMirror.detect(for: .ubuntu, root: root) == nil)

        try FileManager.default.removeItem(atPath: "\(root)/etc/apt/sources.list.d/debian.sources")
        #expect(HostMirror.detect(for: .debian, root: root) == "http://other.example/debian")
    }
}
