import Testing
@testable import DevenvManifest

@Test func definitionsOfEveryStepKind() throws {
    let manifest = try parse(completeExample)
    #expect((0..<manifest.steps.count).map { manifest.normalizedStepDefinition($0) } == [
        #"{"run":"apt-get update && apt-get install -y git","cache":["/var/cache/apt"],"network":"host"}"#,
        #"{"copy":["requirements.txt","src/"],"to":"/app/"}"#,
        #"{"env":{"LANG":"C.UTF-8","PATH":"/opt/bin:$PATH"}}"#,
        #"{"workdir":"/app"}"#,
        #"{"user":"1000:1000"}"#,
        #"{"packages":["build-essential","git"]}"#,
        #"{"run":["pip","install","-r","requirements.txt"],"network":"none"}"#,
    ])
}

@Test func definitionIgnoresFormattingAndOrderThatDoesNotMatter() throws {
    let first = try parse("""
        [base]
        image = "a"
        [[step]]
        env = { B = "2", A = "1" }
        [[step]]
        packages = ["git", "curl", "git"]
        [[step]]
        run = 'make'
        cache = ["/b", "/a"]
        """)
    let second = try parse("""
        # a comment moves everything down
        base.image = "a"

        step = [
            { env.A = "1", env.B = "2" },   # inline, dotted, other order
            { packages = ["curl", "git"] },
            { run = "make", cache = ["/a", "/b", "/a"] },
        ]
        """)
    #expect(first.steps.map(\.normalizedDefinition) == second.steps.map(\.normalizedDefinition))
    #expect(first.steps.map(\.location) != second.steps.map(\.location))
}

@Test func definitionChangesWhenMeaningChanges() throws {
    let variants = [
        "run = \"make\"",
        "run = \"make \"",
        "run = [\"make\"]",
        "run = \"make\"\nnetwork = \"none\"",
        "copy = [\"a\", \"b\"]\nto = \"/x/\"",
        "copy = [\"b\", \"a\"]\nto = \"/x/\"",
        "copy = [\"b\", \"a\"]",
        "workdir = \"/x\"",
        "workdir = \"/x/\"",
    ]
    let definitions = try variants.map { try parse("[base]\nimage = \"a\"\n[[step]]\n" + $0).steps[0].normalizedDefinition }
    #expect(Set(definitions).count == variants.count)
}

@Test func definitionEscapesCanonically() throws {
    let manifest = try parse(#"""
        [base]
        image = "a"
        [[step]]
        run = "printf '\"%s\"\\n' \t\u0001 é"
        """#)
    #expect(manifest.steps[0].normalizedDefinition == #"{"run":"printf '\"%s\"\\n' \t\u0001 é"}"#)
}

@Test func laterEnvironmentEntriesOfTheSameNameAreImpossible() throws {
    // TOML forbids duplicate keys, so an env step's names are unique by construction.
    let error = manifestError("[base]\nimage = \"a\"\n[[step]]\nenv = { A = \"1\", A = \"2\" }")
    #expect(error?.diagnostics.first?.message == "duplicate key 'step.env.A' (first defined at 4:9)")
}
