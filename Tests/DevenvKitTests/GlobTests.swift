import Testing
@testable import DevenvKit

/// COPY and ADD source wildcards, one path component at a time (Go's filepath.Match).
struct GlobTests {
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
}
