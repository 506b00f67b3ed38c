import Testing
@testable import DevenvManifest

/// `[base] distro = "…"` and its options: accepted forms, and one exact message per mistake.
@Test func distroWithEveryOption() throws {
    let manifest = try parse("""
        [base]
        distro = "debian:trixie"
        snapshot = "20250520T000000Z"
        variant = "buildd"
        packages = ["ca-certificates", "git"]
        """)
    let distro = try #require(manifest.base.distro)
    #expect(manifest.base.image == nil)
    #expect(distro.family == .debian && distro.suite == "trixie")
    #expect(distro.name.value == "debian:trixie" && distro.name.location.line == 2)
    #expect(distro.snapshot?.value == "20250520T000000Z" && distro.mirror == nil)
    #expect(distro.variantName == "buildd")
    #expect(distro.packages.map(\.value) == ["ca-certificates", "git"])
}

@Test func distroDefaults() throws {
    let manifest = try parse("base = { distro = \"ubuntu:noble\", mirror = \"http://archive.ubuntu.com/ubuntu\" }")
    let distro = try #require(manifest.base.distro)
    #expect(distro.family == .ubuntu && distro.suite == "noble")
    #expect(distro.variantName == "minbase" && distro.variant == nil)
    #expect(distro.mirror?.value == "http://archive.ubuntu.com/ubuntu")
    #expect(distro.packages.isEmpty)
}

@Test(arguments: [
    RejectedCase("both image and distro", "[base]\nimage = \"debian\"\ndistro = \"debian:bookworm\"",
                 "2:1: error: base: give either 'image' or 'distro', not both"),
    RejectedCase("option without distro", "[base]\nimage = \"debian\"\nvariant = \"minbase\"",
                 "3:1: error: base.variant: 'variant' is only valid with 'distro'"),
    RejectedCase("options but no distro", "[base]\nmirror = \"http://deb.debian.org/debian\"",
                 "1:1: error: base: missing required key 'distro'"),
    RejectedCase("unknown family", "[base]\ndistro = \"fedora:40\"",
                 "2:10: error: base.distro: invalid distro 'fedora:40': expected FAMILY:SUITE such as 'debian:bookworm', where FAMILY is one of debian, ubuntu"),
    RejectedCase("no suite", "[base]\ndistro = \"debian\"",
                 "2:10: error: base.distro: invalid distro 'debian': expected FAMILY:SUITE such as 'debian:bookworm', where FAMILY is one of debian, ubuntu"),
    RejectedCase("suite like an option", "[base]\ndistro = \"debian:--help\"",
                 "2:10: error: base.distro: invalid suite '--help' in distro 'debian:--help': use lowercase letters, digits, '-' and '.', starting with a letter"),
    RejectedCase("suite with a path", "[base]\ndistro = \"debian:../x\"",
                 "2:10: error: base.distro: invalid suite '../x' in distro 'debian:../x': use lowercase letters, digits, '-' and '.', starting with a letter"),
    RejectedCase("mirror not a URL", "[base]\ndistro = \"debian:bookworm\"\nmirror = \"/etc/apt/sources.list\"",
                 "3:10: error: base.mirror: invalid mirror '/etc/apt/sources.list': expected an http://, https:// or file:// URL"),
    RejectedCase("mirror as a sources line", "[base]\ndistro = \"debian:bookworm\"\nmirror = \"http://x/debian bookworm main\"",
                 "3:10: error: base.mirror: invalid mirror 'http://x/debian bookworm main': a URL of printable ASCII without spaces, quotes or brackets (percent-encode them)"),
    RejectedCase("mirror with a newline", "[base]\ndistro = \"debian:bookworm\"\nmirror = \"http://x/\\ndeb http://evil/ sid main\"",
                 "3:10: error: base.mirror: invalid mirror 'http://x/\\ndeb http://evil/ sid main': a URL of printable ASCII without spaces, quotes or brackets (percent-encode them)"),
    RejectedCase("snapshot format", "[base]\ndistro = \"debian:bookworm\"\nsnapshot = \"2025-05-20\"",
                 "3:12: error: base.snapshot: invalid snapshot '2025-05-20': expected a UTC time as YYYYMMDDTHHMMSSZ, e.g. '20250101T000000Z'"),
    RejectedCase("snapshot month 13", "[base]\ndistro = \"debian:bookworm\"\nsnapshot = \"20251320T000000Z\"",
                 "3:12: error: base.snapshot: invalid snapshot '20251320T000000Z': expected a UTC time as YYYYMMDDTHHMMSSZ, e.g. '20250101T000000Z'"),
    RejectedCase("snapshot and mirror", "[base]\ndistro = \"debian:bookworm\"\nmirror = \"http://m/debian\"\nsnapshot = \"20250520T000000Z\"",
                 "4:1: error: base: give either 'mirror' or 'snapshot' (which chooses the snapshot archive as the mirror), not both"),
    RejectedCase("unknown variant", "[base]\ndistro = \"debian:bookworm\"\nvariant = \"extract\"",
                 "3:11: error: base.variant: invalid variant 'extract': expected one of essential, apt, minbase, buildd, required, important, standard"),
    RejectedCase("package like an option", "[base]\ndistro = \"debian:bookworm\"\npackages = [\"git\", \"--allow-unauthenticated\"]",
                 "3:20: error: base.packages[2]: invalid package name '--allow-unauthenticated': use letters, digits and '+._:=~-', starting with a letter or digit"),
    RejectedCase("empty packages", "[base]\ndistro = \"debian:bookworm\"\npackages = []",
                 "3:12: error: base.packages: must not be empty"),
    RejectedCase("distro not a string", "[base]\ndistro = 12",
                 "2:10: error: base.distro: expected a string, found an integer"),
    RejectedCase("misspelt option", "[base]\ndistro = \"debian:bookworm\"\nvarient = \"minbase\"",
                 "3:1: error: unknown key 'varient' in [base] (did you mean 'variant'?)"),
])
func distroMistakes(_ rejected: RejectedCase) throws {
    let error = try #require(manifestError(rejected.source))
    #expect(error.description == ".devenv/devenv.toml:" + rejected.expected)
}

@Test func snapshotRules() {
    #expect(ValueRules.snapshotProblem("20250520T000000Z") == nil)
    #expect(ValueRules.snapshotProblem("20250520T235959Z") == nil)
    for bad in ["20250520T240000Z", "20250520T000060Z", "20250500T000000Z", "19691231T000000Z", "20250520t000000z", "20250520T000000", "2025052OT000000Z"] {
        #expect(ValueRules.snapshotProblem(bad) != nil, "\(bad)")
    }
}

@Test func distroAndDockerfileExcludeEachOther() throws {
    let error = try #require(manifestError("[base]\ndistro = \"debian:bookworm\"\ndockerfile = \"Dockerfile\""))
    #expect(error.description == ".devenv/devenv.toml:3:1: error: base: give only one of 'image', 'distro' or 'dockerfile'")
}
