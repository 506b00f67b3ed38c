import Testing
@testable import DevenvKit

/// `.dockerignore` matching as Docker's patternmatcher does it.
struct DockerIgnoreTests {
    @Test func patterns() {
        let ignore = DockerfileIgnore("""
            # comment
            .git
            *.md
            !README.md
            **/*.log
            !app/keep.log
            /build/
            tmp?
            docs/[a-c]*
            ./dist/../out

            """)
        let cases: [(String, Bool)] = [
            (".git", true), (".git/HEAD", true), ("notes.md", true), ("README.md", false), ("sub/notes.md", false),
            ("x.log", true), ("a/b/c.log", true), ("app/keep.log", false), ("build", true), ("build/x", true),
            ("tmp1", true), ("tmp12", false), ("docs/about", true), ("docs/zeta", false), ("out/file", true), ("dist/file", false),
            ("src/main.c", false),
        ]
        for (path, excluded) in cases {
            #expect(ignore.excludes(path) == excluded, "\(path)")
        }
        #expect(ignore.hasExceptions)
        #expect(!DockerfileIgnore("a\n").hasExceptions)
    }

    @Test func globComponents() {
        let cases: [(String, String, Bool)] = [
            ("*", "anything", true), ("*.c", "main.c", true), ("*.c", "main.h", false), ("m?in.c", "main.c", true),
            ("[a-c]x", "bx", true), ("[^a-c]x", "bx", false), ("[!a-c]x", "dx", true), ("\\*", "*", true), ("\\*", "a", false),
            ("a*b*c", "aXXbYYc", true), ("a*b*c", "aXXbYY", false), ("[", "[", true), ("[]]", "]", true),
        ]
        for (pattern, name, expected) in cases {
            #expect(Glob.matchComponent(Array(pattern.unicodeScalars), Array(name.unicodeScalars)) == expected, "\(pattern) \(name)")
        }
    }

    /// Alternating `**` against a deep path must not take exponential time.
    @Test func doubleStarIsPolynomial() {
        let pattern = Array(repeating: ["**", "a"], count: 40).flatMap { $0 } + ["b"]
        let path = Array(repeating: "a", count: 200)
        #expect(!Glob.match(pattern, path))
        #expect(Glob.match(["**", "b"], ["a", "a", "b"]))
        #expect(Glob.match(["**"], []))
    }
}
