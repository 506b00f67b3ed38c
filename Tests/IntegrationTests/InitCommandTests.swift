@testable import DevenvTestSupport
import Foundation
import Testing

/// `devenv init`: lists its templates, writes only `.devenv/devenv.toml`, never overwrites
/// without `--force`.
@Suite struct InitCommandTests {
    static let stacks = ["debian", "c", "python", "node", "go", "rust", "swift"]

    @Test func listShowsEveryTemplateWithADescription() throws {
        let project = try DistroProject(label: "devenv-init")
        let listed = try project.devenv(["init", "--list"])
        #expect(listed.succeeded, "\(listed.stderr)")
        let lines = listed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("debian ") == true && lines.first?.hasSuffix("(default)") == true)
        for stack in Self.stacks {
            let line = lines.first { $0.hasPrefix(stack + " ") }
            #expect(line.map { $0.count > stack.count + 10 } == true, "no description for \(stack): \(listed.stdout)")
        }
        let json = try project.devenv(["init", "--list", "--json"])
        let entries = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: String]] ?? []
        #expect(Set(entries.compactMap { $0["name"] }).isSuperset(of: Self.stacks))
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.root).isEmpty)
    }

    @Test func writesTheDefaultTemplateAndNothingElse() throws {
        let project = try DistroProject(label: "devenv-init")
        let created = try project.devenv(["init"])
        #expect(created.succeeded, "\(created.stderr)")
        #expect(created.stdout.hasPrefix("created \(project.root)/.devenv/devenv.toml from template 'debian'"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.root) == [".devenv"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(project.root)/.devenv") == ["devenv.toml"])
        #expect(project.read(".devenv/devenv.toml")?.contains("distro = \"debian:bookworm\"") == true)
    }

    @Test func convertsADevcontainer() throws {
        let project = try DistroProject(label: "devenv-init")
        try project.write(".devcontainer/devcontainer.json", """
        {
          // comments and trailing commas, as VS Code writes them
          "image": "busybox:it",
          "containerEnv": { "FOO": "bar" },
          "postCreateCommand": "make setup",
        }
        """)
        let both = try project.devenv(["init", "--from-devcontainer", "--template", "python"])
        #expect(both.status == 64)
        let converted = try project.devenv(["init", "--from-devcontainer"])
        #expect(converted.succeeded, "\(converted.stderr)")
        let manifest = project.read(".devenv/devenv.toml") ?? ""
        #expect(manifest.contains("image = \"busybox:it\""))
        #expect(manifest.contains("FOO = \"bar\""))
        #expect(manifest.contains("post-create = \"make setup\""))
        #expect(try project.devenv(["init", "--from-devcontainer"]).status == 125, "no overwrite without --force")
    }

    @Test func refusesToOverwriteWithoutForce() throws {
        let project = try DistroProject(label: "devenv-init")
        try project.write(".devenv/devenv.toml", "# mine\n")
        let refused = try project.devenv(["init", "--template", "python"])
        #expect(refused.status == 125)
        #expect(refused.stderr.contains("devenv.toml' already exists; `devenv init --force` replaces it"), "\(refused.stderr)")
        #expect(project.read(".devenv/devenv.toml") == "# mine\n")

        let forced = try project.devenv(["init", "--template", "python", "--force"])
        #expect(forced.succeeded, "\(forced.stderr)")
        #expect(project.read(".devenv/devenv.toml")?.contains("python3-pytest") == true)
    }

    @Test func unknownTemplateIsAUsageError() throws {
        let project = try DistroProject(label: "devenv-init")
        let unknown = try project.devenv(["init", "--template", "cobol"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("no template 'cobol'; choose one of: debian, c, "), "\(unknown.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: project.root).isEmpty)
    }

    @Test func initializesAnotherDirectory() throws {
        let project = try DistroProject(label: "devenv-init")
        let elsewhere = project.scratch.file("elsewhere")
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let created = try project.devenv(["init", "--template", "rust", elsewhere])
        #expect(created.succeeded, "\(created.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(elsewhere)/.devenv/devenv.toml"))
        let missing = try project.devenv(["init", project.scratch.file("missing")])
        #expect(missing.status == 125 && missing.stderr.contains("is not a directory"))
    }
}
