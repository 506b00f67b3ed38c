import DevenvOCI
import Testing

@Suite struct ReferenceTests {
    @Test(arguments: [
        ("debian", "docker.io/library/debian:latest", "debian:latest"),
        ("debian:12", "docker.io/library/debian:12", "debian:12"),
        ("library/debian:12", "docker.io/library/debian:12", "debian:12"),
        ("team/env", "docker.io/team/env:latest", "team/env:latest"),
        ("localhost/busybox:1", "localhost/busybox:1", "localhost/busybox:1"),
        ("127.0.0.1:5000/base/busybox:1", "127.0.0.1:5000/base/busybox:1", "127.0.0.1:5000/base/busybox:1"),
        ("ghcr.io/org/a/b/c:v1.2-x_y", "ghcr.io/org/a/b/c:v1.2-x_y", "ghcr.io/org/a/b/c:v1.2-x_y"),
        ("index.docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine:latest"),
        ("my_app__x-y--z.w:tag", "docker.io/library/my_app__x-y--z.w:tag", "my_app__x-y--z.w:tag"),
    ])
    func normalizes(input: String, full: String, familiar: String) throws {
        let reference = try Reference(parsing: input)
        #expect(reference.description == full)
        #expect(reference.familiar == familiar)
    }

    @Test func digestReference() throws {
        let hex = String(repeating: "b", count: 64)
        let reference = try Reference(parsing: "localhost:5000/x@sha256:\(hex)")
        #expect(reference.tag == nil)
        #expect(reference.digest?.encoded == hex)
        #expect(reference.registry == "localhost:5000")
        #expect(reference.description == "localhost:5000/x@sha256:\(hex)")
    }

    @Test(arguments: [
        "", "UPPER", "a//b", "a/", "/a", "a:", "a:-tag", "a@sha256:..%2f..", "ubuntu@sha256:../../x",
        "a:" + String(repeating: "t", count: 129), "-a", "a..b", "a___b", "exa mple",
    ])
    func rejects(input: String) {
        #expect(throws: OCIError.self) { try Reference(parsing: input) }
    }
}
