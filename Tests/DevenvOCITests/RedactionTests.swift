import DevenvOCI
import Foundation
import Testing

/// DevenvText's two output rules: `Redaction` (no credential in a message) and
/// `Printable.terminalSafe` (no control sequence, and no double escaping).
@Suite struct RedactionTests {
    @Test(arguments: [
        ("DENIED: Basic YWxpY2U6czNjcmV0", "DENIED: Basic <redacted>"),
        ("authorization: bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "authorization: bearer <redacted>"),
        (#"{"token":"abc.def-123","expires_in":60}"#, #"{"token":"<redacted>","expires_in":60}"#),
        (#"{"access_token" : "x\"y\"z", "refresh_token":"r1r2r3r4"}"#, #"{"access_token" : "<redacted>", "refresh_token":"<redacted>"}"#),
        (#"{"password":"hunter2-long","user":"alice"}"#, #"{"password":"<redacted>","user":"alice"}"#),
        ("GET /token?account=alice&password=pw1234&scope=pull", "GET /token?account=alice&password=<redacted>&scope=pull"),
        ("realm https://alice:s3cret@auth.example/token", "realm https://<redacted>@auth.example/token"),
        // Cut off by a length limit: what remains of the value still goes.
        (#"{"token":"abcdefgh"#, #"{"token":"<redacted>"#),
    ])
    func patternsAreRedacted(input: String, expected: String) {
        #expect(Redaction.redact(input) == expected)
    }

    @Test(arguments: [
        #"Bearer realm="https://auth.example/token",service="registry""#,
        #"Basic realm="Registry Realm""#,
        "the reply has no token",
        "use a password manager",
        "https://registry.example/v2/team/app/manifests/1",
        "user alice@example.com",
        "Basic auth failed",
        "Bearer authentication required",
    ])
    func ordinaryTextIsKept(_ text: String) {
        #expect(Redaction.redact(text) == text)
    }

    @Test func everyFormOfASentHeaderIsRedacted() {
        let header = "Basic " + Data("alice:p@ss/word+1".utf8).base64EncodedString()
        let forms = Redaction.forms(ofAuthorization: header)
        let base64 = Data("alice:p@ss/word+1".utf8).base64EncodedString()
        let message = "got \(header); decoded alice:p@ss/word+1; password p@ss/word+1 %70; b64 \(base64.prefix { $0 != "=" }) pw-b64 \(Data("p@ss/word+1".utf8).base64EncodedString()) pct p%40ss%2Fword%2B1"
        let redacted = Redaction.redact(message, secrets: forms)
        for secret in ["p@ss/word+1", base64, String(base64.prefix { $0 != "=" }), "p%40ss%2Fword%2B1", Data("p@ss/word+1".utf8).base64EncodedString()] {
            #expect(!redacted.contains(secret), "\(secret) in \(redacted)")
        }
        #expect(redacted.hasPrefix("got <redacted>;"), "\(redacted)")
    }

    @Test func shortSecretsAreNotMatchedEverywhere() {
        #expect(Redaction.redact("a cat sat", secrets: Redaction.forms(ofSecret: "a")) == "a cat sat")
    }

    @Test func terminalSafeEscapesControlsButNotEscapedText() {
        let raw = "FROM \u{1b}[31mred\u{07} \u{1b}]0;title\u{07} \u{9b}2J \u{202e}txt\r"
        let safe = Printable.terminalSafe(raw)
        #expect(safe == "FROM \\x1b[31mred\\x07 \\x1b]0;title\\x07 \\x9b2J \\u{202e}txt\\r")
        #expect(!safe.unicodeScalars.contains { $0.value < 0x20 || (0x7f..<0xa0).contains($0.value) })
        // Already escaped text, newlines and tabs pass unchanged.
        let escaped = "error: image '\(Printable.escape("a\u{1b}b\\c"))'\n 2 | RUN\tx"
        #expect(Printable.terminalSafe(escaped) == escaped)
    }
}
