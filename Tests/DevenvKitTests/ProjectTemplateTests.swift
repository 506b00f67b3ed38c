import DevenvManifest
import Foundation
import Testing
@testable import DevenvKit

/// The templates `devenv init` writes: embedded exactly as templates/ holds them, valid,
/// built on a distro base, with build and test tasks.
@Suite struct ProjectTemplateTests {
    static let templatesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("templates").path

    @Test func embeddedTemplatesMatchTheTemplatesDirectory() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.templatesDirectory).sorted()
        var files: [String: String] = [:]
        for name in names {
            files[name] = try String(contentsOfFile: "\(Self.templatesDirectory)/\(name)/devenv.toml", encoding: .utf8)
        }
        let embedded = Dictionary(uniqueKeysWithValues: ProjectTemplate.embedded.map { ($0.name, $0.manifest) })
        #expect(embedded == files, "templates/ changed: run scripts/embed-templates.sh")
    }

    @Test func theRequiredStacksExistWithTheDefaultFirst() {
        let names = ProjectTemplate.all.map(\.name)
        #expect(names.first == ProjectTemplate.defaultName)
        #expect(Set(["debian", "c", "python", "node", "go", "rust", "swift"]).isSubset(of: Set(names)))
    }

    @Test(arguments: ProjectTemplate.all.map(\.name))
    func templateIsAWorkingManifest(_ name: String) throws {
        let template = try #require(ProjectTemplate.named(name))
        let manifest = try Manifest.parse(Array(template.manifest.utf8), path: "templates/\(name)/devenv.toml")
        let distro = try #require(manifest.base.distro, "templates build on the built-in base")
        #expect(distro.family == .debian && ["bookworm", "trixie"].contains(distro.suite))
        #expect(manifest.task(named: "build") != nil && manifest.task(named: "test") != nil)
        #expect(template.manifest.hasPrefix("# ") && !template.summary.isEmpty && template.summary.count <= 100)
    }
}

/// `devenv init`'s file handling.
@Suite struct ProjectInitializerTests {
    func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "init-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func writesOnlyTheManifestAndRefusesToOverwrite() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let python = try #require(ProjectTemplate.named("python"))
        let path = try ProjectInitializer.initialize(directory: directory, template: python, force: false)
        #expect(path == "\(directory)/.devenv/devenv.toml")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [".devenv"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/.devenv") == ["devenv.toml"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == python.manifest)

        let debian = try #require(ProjectTemplate.named("debian"))
        #expect(throws: KitError.self) { try ProjectInitializer.initialize(directory: directory, template: debian, force: false) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == python.manifest)
        _ = try ProjectInitializer.initialize(directory: directory, template: debian, force: true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == debian.manifest)
    }

    @Test func aSymlinkedDevenvDirectoryIsRefused() throws {
        let directory = try scratch()
        let elsewhere = try scratch()
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: elsewhere)
        }
        try FileManager.default.createSymbolicLink(atPath: "\(directory)/.devenv", withDestinationPath: elsewhere)
        let template = try #require(ProjectTemplate.named("debian"))
        #expect(throws: KitError.self) { try ProjectInitializer.initialize(directory: directory, template: template, force: true) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
    }

    @Test func aSymlinkedManifestIsReplacedNotFollowed() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: "\(directory)/.devenv", withIntermediateDirectories: true)
        try "precious\n".write(toFile: "\(directory)/precious", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: "\(directory)/.devenv/devenv.toml", withDestinationPath: "\(directory)/precious")
        let template = try #require(ProjectTemplate.named("debian"))
        _ = try ProjectInitializer.initialize(directory: directory, template: template, force: true)
        #expect(try String(contentsOfFile: "\(directory)/precious", encoding: .utf8) == "precious\n")
        #expect(try String(contentsOfFile: "\(directory)/.devenv/devenv.toml", encoding: .utf8) == template.manifest)
    }
}
