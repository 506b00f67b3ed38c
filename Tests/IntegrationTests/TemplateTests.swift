@testable import DevenvTestSupport
import Foundation
import Testing

/// Every `devenv init` template is a working environment: the suite creates a project from
/// it, adds a trivial program of that stack, builds the environment and runs the program and
/// the template's own `test` (or `build`) task inside it with `devenv run`, as a user would:
/// as root and as the unprivileged test user (its bootstrap in mmdebstrap's unshare mode).
///
/// Slow (each template installs its toolchain; Swift alone is 2 GB). The default template
/// and Python always run; the others only with DEVENV_TEST_ALL_TEMPLATES=1.
@Suite(.serialized, .enabled(if: Requirement.rootAndPrograms("mmdebstrap")))
struct TemplateTests {
    static var allTemplates: Bool { ProcessInfo.processInfo.environment["DEVENV_TEST_ALL_TEMPLATES"] == "1" }

    /// A trivial program for a template: files in the project, and `devenv run` arguments
    /// with a line each must print.
    struct Program {
        var files: [String: String]
        var runs: [(arguments: [String], expected: String)]
    }

    static let programs: [String: Program] = [
        "debian": Program(files: ["Makefile": "build:\n\t@echo built with make\ntest:\n\t@echo tested with make\n"], runs: [
            (["--", "cat", "/etc/os-release"], "VERSION_CODENAME=bookworm"),
            (["--", "git", "--version"], "git version 2."),
            (["test"], "tested with make"),
        ]),
        "c": Program(files: ["hello.c": "#include <stdio.h>\nint main(void) { puts(\"hello from c\"); return 0; }\n",
                             "Makefile": "hello: hello.c\n\tcc -Wall -o $@ hello.c\ntest: hello\n\t./hello\n"], runs: [
            (["test"], "hello from c"),
        ]),
        "python": Program(files: ["hello.py": "def greeting():\n    return 'hello from python'\n\nif __name__ == '__main__':\n    print(greeting())\n",
                                  "test_hello.py": "from hello import greeting\n\ndef test_greeting():\n    assert greeting() == 'hello from python'\n"], runs: [
            (["--", "python3", "hello.py"], "hello from python"),
            (["test"], "1 passed"),
        ]),
        "python-postgres": Program(files: ["test_db.py": "import psycopg2\n\ndef test_query():\n    with psycopg2.connect(host='127.0.0.1', port=5432, user='app', dbname='postgres') as connection:\n        cursor = connection.cursor()\n        cursor.execute('select 41 + 1')\n        assert cursor.fetchone()[0] == 42\n"], runs: [
            (["test"], "1 passed"),
            (["psql", "-tAc", "select 'query ' || 6 * 7"], "query 42"),
            // The server's own psql, not Debian's Perl wrapper (30 ms a call).
            (["--", "sh", "-c", "command -v psql"], "/usr/lib/postgresql/15/bin/psql"),
        ]),
        "node-redis": Program(files: ["test.js": "const net = require('net')\nconst s = net.connect(6379, '127.0.0.1', () => s.write('PING\\r\\nSET greeting hi\\r\\nGET greeting\\r\\n'))\nlet out = ''\ns.on('data', d => { out += d; if (out.split('\\r\\n').length > 4) { const l = out.split('\\r\\n'); console.log('redis says ' + l[0].slice(1) + ' and ' + l[3]); s.end() } })\n",
                                      "package.json": "{ \"name\": \"hello\", \"version\": \"1.0.0\", \"scripts\": { \"test\": \"node test.js\" } }\n"], runs: [
            (["test"], "redis says PONG and hi"),
        ]),
        "node": Program(files: ["hello.js": "console.log('hello from node ' + process.versions.node)\n",
                                "package.json": "{ \"name\": \"hello\", \"version\": \"1.0.0\", \"scripts\": { \"test\": \"node hello.js\" } }\n"], runs: [
            (["test"], "hello from node 20."),
        ]),
        "go": Program(files: ["go.mod": "module example.com/hello\n\ngo 1.22\n",
                              "main.go": "package main\n\nimport \"fmt\"\n\nfunc greeting() string { return \"hello from go\" }\n\nfunc main() { fmt.Println(greeting()) }\n",
                              "main_test.go": "package main\n\nimport \"testing\"\n\nfunc TestGreeting(t *testing.T) {\n\tif greeting() != \"hello from go\" {\n\t\tt.Fatal(greeting())\n\t}\n}\n"], runs: [
            (["--", "go", "run", "."], "hello from go"),
            (["test"], "ok  \texample.com/hello"),
        ]),
        "rust": Program(files: ["Cargo.toml": "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
                                "src/main.rs": "fn greeting() -> &'static str { \"hello from rust\" }\n\nfn main() { println!(\"{}\", greeting()); }\n\n#[test]\nfn greets() { assert_eq!(greeting(), \"hello from rust\"); }\n"], runs: [
            (["--", "cargo", "run", "-q", "--offline"], "hello from rust"),
            (["test"], "test result: ok. 1 passed"),
        ]),
        "swift": Program(files: ["Package.swift": "// swift-tools-version:5.9\nimport PackageDescription\nlet package = Package(name: \"hello\", targets: [.executableTarget(name: \"hello\")])\n",
                                 "Sources/hello/main.swift": "print(\"hello from swift\")\n"], runs: [
            (["--", "swift", "--version"], "Swift version 6."),
            (["build"], "Build complete!"),
            (["--", ".build/debug/hello"], "hello from swift"),
        ]),
    ]

    @Test(arguments: DevenvUser.allCases)
    func theDefaultAndPythonTemplatesWork(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["mmdebstrap"])
        try check(["debian", "python", "python-postgres"], as: user)
    }

    @Test(.enabled(if: allTemplates), arguments: DevenvUser.allCases)
    func everyOtherTemplateWorks(_ user: DevenvUser) throws {
        try Requirement.require(root: true, programs: ["mmdebstrap"])
        try check(["c", "node", "node-redis", "go", "rust", "swift"], as: user)
    }

    /// One store for the lot, so templates on the same suite bootstrap it once.
    private func check(_ templates: [String], as user: DevenvUser) throws {
        let store = try Scratch("devenv-templates-store")
        try user.account()?.own(store.path)
        for template in templates {
            let program = try #require(Self.programs[template], "no test program for template \(template)")
            let project = try DistroProject(label: "devenv-template-\(template)", store: store.file("store"), as: user)
            let created = try project.devenv(["init", "--template", template])
            try #require(created.succeeded, "\(template): \(created.stderr)")
            for (path, contents) in program.files { try project.write(path, contents) }
            let built = try project.devenv(["build"])
            try #require(built.succeeded, "\(template) as \(user): \(built.stderr.suffix(3000))")
            for run in program.runs {
                let result = try project.devenv(["run"] + run.arguments)
                #expect(result.succeeded, "\(template) as \(user): devenv run \(run.arguments): \(result.stderr.suffix(3000))")
                #expect((result.stdout + result.stderr).contains(run.expected),
                        "\(template): devenv run \(run.arguments) did not print '\(run.expected)': \(result.stdout.suffix(2000)) \(result.stderr.suffix(2000))")
            }
        }
    }
}
