import Testing
import DevenvText
@testable import DevenvAdopt

/// `.dockerignore` as Docker reads it: moby/patternmatcher's matching and its ignorefile
/// reader's cleaning, with malformed patterns as located errors.
struct DockerfileIgnoreTests {
    static func ignore(_ text: String) throws -> DockerfileIgnore {
        try DockerfileIgnore(Array(text.utf8), path: ".dockerignore")
    }

    @Test func patterns() throws {
        let ignore = try Self.ignore("""
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
             #spaced

            """)
        let cases: [(String, Bool)] = [
            (".git", true), (".git/HEAD", true), ("notes.md", true), ("README.md", false), ("sub/notes.md", false),
            ("x.log", true), ("a/b/c.log", true), ("app/keep.log", false), ("build", true), ("build/x", true),
            ("tmp1", true), ("tmp12", false), ("docs/about", true), ("docs/zeta", false), ("out/file", true), ("dist/file", false),
            ("src/main.c", false), ("#spaced", true), ("comment", false),
        ]
        for (path, excluded) in cases {
            #expect(ignore.excludes(path) == excluded, "\(path)")
        }
        #expect(ignore.hasExceptions)
        #expect(try !Self.ignore("a\n").hasExceptions)
    }

    /// `**` as patternmatcher compiles it, including inside a segment.
    @Test(arguments: [
        ("**file", "file", true), ("**file", "a/b/file", true), ("**file", "myfile", true), ("**file", "file/x", true),
        ("a**/*.txt", "a/b.txt", true), ("a**/*.txt", "abc/d/e.txt", true), ("a**/*.txt", "a.txt", true), ("a**/*.txt", "b/a.txt", false),
        ("abc/**", "abc", false), ("abc/**", "abc/x", true), ("abc/**", "abc/x/y", true), ("abc**", "abcdef", true),
        ("**/foo", "foo", true), ("**/foo", "a/b/foo", true), ("**/foo", "afoo", false), ("**", "anything/at/all", true),
        ("dir/**/file", "dir/file", true), ("dir/**/file", "dir/a/b/file", true), ("dir/**/file", "dirx/file", false),
        ("**/*.go", "main.go", true), ("**/*.go", "a/b/main.go", true), ("**/**", "x/y", true),
        ("a/b/../c", "a/c", true), ("../x", "x", false), ("*", "a", true), ("*", "a/b", true), ("a?c", "a/c", false),
        ("[a-c]x", "bx", true), ("[^a-c]x", "bx", false), ("[!a]x", "!x", true), ("[!a]x", "bx", false), ("\\*", "*", true),
        ("a.b", "axb", false), ("a+b", "a+b", true), ("(x)", "(x)", true), ("[z-a]", "m", false),
    ])
    func doubleStar(_ pattern: String, _ path: String, _ excluded: Bool) throws {
        #expect(try Self.ignore(pattern + "\n").excludes(path) == excluded, "\(pattern) \(path)")
    }

    @Test(arguments: [
        ("ok\n[\n", 2, "syntax error in pattern"), ("[]a]", 1, "syntax error in pattern"), ("# c\n\ntrailing\\", 3, "syntax error in pattern"),
        ("!", 1, "illegal exclusion pattern: \"!\""), ("a\n!   \n", 2, "illegal exclusion pattern: \"!\""), ("[a-]", 1, "syntax error in pattern"),
        ("x[a", 1, "syntax error in pattern"), ("[^]", 1, "syntax error in pattern"), ("a/[\\", 1, "syntax error in pattern"),
    ] as [(String, Int, String)])
    func malformedPatternsFailWithTheirLine(_ text: String, _ line: Int, _ message: String) {
        do {
            _ = try Self.ignore(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect("\(error)".hasPrefix(".dockerignore:\(line):1: error: \(Printable.escape(message))"), "\(error)")
        }
    }

    @Test func byteOrderMarkAndCarriageReturns() throws {
        let ignore = try DockerfileIgnore([0xEF, 0xBB, 0xBF] + Array("a\r\n#b\r\nc\r\n".utf8), path: ".dockerignore")
        #expect(ignore.excludes("a") && ignore.excludes("c") && !ignore.excludes("#b"))
    }
}
