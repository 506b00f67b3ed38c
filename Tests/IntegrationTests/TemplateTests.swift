@testable import DevenvTestSupport
import Foundation
import Testing

/// Every `devenv init` template is a working environment: the suite creates a project from
/// it, adds a trivial program of that stack, and builds it with the program compiled and
/// run as the environment's last step (its output is the build's).
///
/// Slow (each template installs its toolchain; Swift alone is 2 GB). The default template
/// and Python always run; the others only with DEVENV_TEST_ALL_TEMPLATES=1.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("mmdebstrap")))
struct TemplateTests {
    static var allTemplates: Bool { ProcessInfo.processInfo.environment["DEVENV_TEST_ALL_TEMPLATES"] == "1" }

    /// A trivial program for a template: files in the project, and the command that builds
    /// and runs it inside the environment.
    struct Program {
        var files: [String: String]
        var command: String
        var expected: [String]
    }

    static let programs: [String: Program] = [
        "debian": Program(files: [:], command: "cat /etc/os-release && git --version && make --version",
                          expected: ["VERSION_CODENAME=bookworm", "git version 2.", "GNU Make"]),
        "c": Program(files: ["hello.c": "#include <stdio.h>\nint main(void) { puts(\"hello from c\"); return 0; }\n",
                             "Makefile": "hello: hello.c\n\tcc -Wall -o $@ hello.c\ntest: hello\n\t./hello\n"],
                     command: "make test", expected: ["hello from c"]),
        "python": Program(files: ["hello.py": "def greeting():\n    return 'hello from python'\n\nprint(greeting())\n",
                                  "test_hello.py": "from hello import greeting\n\ndef test_greeting():\n    assert greeting() == 'hello from python'\n"],
                          command: "python3 hello.py && python3 -m pytest -q -p no:cacheprovider", expected: ["hello from python", "1 passed"]),
        "node": Program(files: ["hello.js": "console.log('hello from node ' + process.versions.node)\n"],
                        command: "node hello.js && npm --version", expected: ["hello from node 20."]),
        "go": Program(files: ["go.mod": "module example.com/hello\n\ngo 1.22\n",
                              "main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello from go\") }\n"],
                      command: "GOCACHE=/tmp/gocache go run .", expected: ["hello from go"]),
        "rust": Program(files: ["Cargo.toml": "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
                                "src/main.rs": "fn main() { println!(\"hello from rust\"); }\n"],
                        command: "CARGO_HOME=/tmp/cargo cargo run -q --offline", expected: ["hello from rust"]),
        "swift": Program(files: ["Package.swift": "// swift-tools-version:5.9\nimport PackageDescription\nlet package = Package(name: \"hello\", targets: [.executableTarget(name: \"hello\")])\n",
                                 "Sources/hello/main.swift": "print(\"hello from swift\")\n"],
                         command: "HOME=/tmp swift run -q hello", expected: ["hello from swift"]),
    ]

    @Test func theDefaultAndPythonTemplatesWork() throws {
        try Requirement.require(root: true, programs: ["mmdebstrap"])
        try check(["debian", "python"])
    }

    @Test(.enabled(if: allTemplates)) func everyOtherTemplateWorks() throws {
        try Requirement.require(root: true, programs: ["mmdebstrap"])
        try check(["c", "node", "go", "rust", "swift"])
    }

    /// One store for the lot, so templates on the same suite bootstrap it once.
    private func check(_ templates: [String]) throws {
        let store = try Scratch("devenv-templates-store")
        for template in templates {
            let program = try #require(Self.programs[template], "no test program for template \(template)")
            let project = try DistroProject(label: "devenv-template-\(template)", store: store.file("store"))
            let created = try project.devenv(["init", "--template", template])
            try #require(created.succeeded, "\(template): \(created.stderr)")
            for (path, contents) in program.files { try project.write(path, contents) }
            let manifest = try #require(project.read(".devenv/devenv.toml"))
            let steps = program.files.isEmpty ? "" : "\n[[step]]\ncopy = \".\"\nto = \"/src/\"\n\n[[step]]\nworkdir = \"/src\"\n"
            try project.write(".devenv/devenv.toml", manifest + steps + "\n[[step]]\nrun = \(quoted(program.command))\n")
            let built = try project.devenv(["build"])
            #expect(built.succeeded, "\(template): \(built.stderr.suffix(3000))")
            for line in program.expected {
                #expect(built.stderr.contains(line), "\(template): no '\(line)' in the build output: \(built.stderr.suffix(3000))")
            }
        }
    }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
