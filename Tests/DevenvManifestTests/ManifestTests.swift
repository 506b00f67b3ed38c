import Testing
@testable import DevenvManifest

let completeExample = """
    [base]
    image = "docker.io/library/debian:bookworm"

    [[step]]
    run = "apt-get update && apt-get install -y git"
    cache = ["/var/cache/apt"]
    network = "host"

    [[step]]
    copy = ["requirements.txt", "src/"]
    to = "/app/"

    [[step]]
    env = { PATH = "/opt/bin:$PATH", LANG = "C.UTF-8" }

    [[step]]
    workdir = "/app"

    [[step]]
    user = "1000:1000"

    [[step]]
    packages = ["git", "build-essential"]

    [[step]]
    run = ["pip", "install", "-r", "requirements.txt"]
    network = "none"

    [shell]
    workdir = "/workspace/src"
    mount = "/workspace"
    shell = "/bin/bash"
    env = { EDITOR = "vim" }
    network = "host"
    mounts = ["~/.cache/pip:/root/.cache/pip", "/data:/data:ro", { host = "/srv/a:b", container = "/ab", readonly = true }]

    [tasks]
    test = "make test"
    build = ["swift", "build"]
    serve = { run = "python -m http.server", workdir = "/app", env = { PORT = "8000" } }

    [cache]
    registry = "registry.example.com/team/env"
    """

func parse(_ source: String) throws -> Manifest {
    try Manifest.parse(Array(source.utf8), path: ".devenv/devenv.toml")
}

/// The error a manifest produces, or nil if it is valid.
func manifestError(_ source: String) -> ManifestError? {
    do {
        _ = try parse(source)
        return nil
    } catch let error as ManifestError {
        return error
    } catch {
        return nil
    }
}

@Test func completeExampleParses() throws {
    let manifest = try parse(completeExample)
    #expect(manifest.base.image?.value == "docker.io/library/debian:bookworm")
    #expect(manifest.base.image?.location == SourceLocation(line: 2, column: 9, offset: 15))
    #expect(manifest.steps.map(\.action.key) == ["run", "copy", "env", "workdir", "user", "packages", "run"])
    #expect(manifest.steps.map(\.number) == [1, 2, 3, 4, 5, 6, 7])
    #expect(manifest.steps.map(\.location.line) == [4, 9, 13, 16, 19, 22, 25])

    guard case let .run(run) = manifest.steps[0].action else { Issue.record("step 1 is not run"); return }
    #expect(run.command.value == .shell("apt-get update && apt-get install -y git"))
    #expect(run.command.value.arguments == ["/bin/sh", "-c", "apt-get update && apt-get install -y git"])
    #expect(run.cache.map(\.value) == ["/var/cache/apt"])
    #expect(run.network == .host)

    guard case let .copy(copy) = manifest.steps[1].action else { Issue.record("step 2 is not copy"); return }
    #expect(copy.sources.map(\.value) == ["requirements.txt", "src/"])
    #expect(copy.sources.map(\.location.column) == [9, 29])
    #expect(copy.destination?.value == "/app/")

    guard case let .env(variables) = manifest.steps[2].action else { Issue.record("step 3 is not env"); return }
    #expect(variables.map(\.name) == ["PATH", "LANG"])
    #expect(variables.map(\.value) == ["/opt/bin:$PATH", "C.UTF-8"])

    guard case let .workdir(directory) = manifest.steps[3].action else { Issue.record("step 4 is not workdir"); return }
    #expect(directory.value == "/app")
    #expect(directory.location.line == 17 && directory.location.column == 11 && directory.width == 6)
    guard case let .user(user) = manifest.steps[4].action else { Issue.record("step 5 is not user"); return }
    #expect(user.value == Manifest.User(user: .id(1000), group: .id(1000)))
    guard case let .packages(names) = manifest.steps[5].action else { Issue.record("step 6 is not packages"); return }
    #expect(names.map(\.value) == ["git", "build-essential"])
    guard case let .run(argvRun) = manifest.steps[6].action else { Issue.record("step 7 is not run"); return }
    #expect(argvRun.command.value == .argv(["pip", "install", "-r", "requirements.txt"]))
    #expect(argvRun.network == Manifest.Network.none)

    let shell = manifest.shell
    #expect(shell.mountPoint == "/workspace")
    #expect(shell.workingDirectory == "/workspace/src")
    #expect(shell.shell?.value == "/bin/bash")
    #expect(shell.env.map(\.name) == ["EDITOR"])
    #expect(shell.network == .host)
    #expect(shell.mounts == [
        Manifest.Mount(source: .home(".cache/pip"), target: "/root/.cache/pip", readOnly: false, location: shell.mounts[0].location),
        Manifest.Mount(source: .absolute("/data"), target: "/data", readOnly: true, location: shell.mounts[1].location),
        Manifest.Mount(source: .absolute("/srv/a:b"), target: "/ab", readOnly: true, location: shell.mounts[2].location),
    ])
    #expect(shell.mounts.map(\.location.line) == [35, 35, 35])

    #expect(manifest.tasks.map(\.name) == ["test", "build", "serve"])
    #expect(manifest.task(named: "build")?.command.value == .argv(["swift", "build"]))
    let serve = try #require(manifest.task(named: "serve"))
    #expect(serve.command.value == .shell("python -m http.server"))
    #expect(serve.workdir?.value == "/app")
    #expect(serve.env.map(\.value) == ["8000"])
    #expect(manifest.cache?.registry.value == "registry.example.com/team/env")
}

@Test func minimalManifestUsesDefaults() throws {
    let manifest = try parse("[base]\nimage = \"debian\"\n")
    #expect(manifest.steps.isEmpty)
    #expect(manifest.tasks.isEmpty)
    #expect(manifest.cache == nil)
    #expect(manifest.shell == Manifest.Shell())
    #expect(manifest.shell.mountPoint == "/workspace")
    #expect(manifest.shell.workingDirectory == "/workspace")
}

@Test func stepsMayBeAnInlineArray() throws {
    let manifest = try parse("base = { image = \"debian\" }\nstep = [{ run = \"true\" }, { workdir = \"/x\" }]")
    #expect(manifest.steps.map(\.action.key) == ["run", "workdir"])
    #expect(manifest.steps[1].location == SourceLocation(line: 2, column: 27, offset: 54))
}

@Test func byteOrderMarkAndCRLFAreAccepted() throws {
    let manifest = try parse("\u{FEFF}[base]\r\nimage = \"debian\"\r\n[[step]]\r\nrun = \"\"\"\r\nmake\r\n\"\"\"\r\n")
    guard case let .run(run) = manifest.steps.first?.action else { Issue.record("not a run step"); return }
    #expect(run.command.value == .shell("make\n"))
    #expect(run.command.location == SourceLocation(line: 4, column: 7, offset: 45))
}

@Test func userForms() throws {
    let cases: [(String, Manifest.User)] = [
        ("dev", Manifest.User(user: .name("dev"))),
        ("1000", Manifest.User(user: .id(1000))),
        ("0:0", Manifest.User(user: .id(0), group: .id(0))),
        ("dev:staff", Manifest.User(user: .name("dev"), group: .name("staff"))),
        ("_apt:65534", Manifest.User(user: .name("_apt"), group: .id(65534))),
    ]
    for (text, expected) in cases {
        let manifest = try parse("[base]\nimage = \"d\"\n[[step]]\nuser = \"\(text)\"")
        guard case let .user(user) = manifest.steps[0].action else { Issue.record("not a user step"); continue }
        #expect(user.value == expected)
        #expect(user.value.description == text)
    }
}

@Test func suggestionDistance() {
    #expect(NearestWord.distance("stpe", "step") == 1)
    #expect(NearestWord.distance("imagee", "image") == 1)
    #expect(NearestWord.distance("ca", "abc") == 3)
    #expect(NearestWord.distance("", "run") == 3)
    #expect(Suggestion.closest(to: "stpe", among: ManifestValidator.topLevelKeys) == "step")
    #expect(Suggestion.closest(to: "Tasks", among: ManifestValidator.topLevelKeys) == "tasks")
    #expect(Suggestion.closest(to: "buidl", among: ManifestValidator.topLevelKeys) == nil)
    #expect(Suggestion.closest(to: "environment", among: ManifestValidator.stepActions) == "env")
    #expect(Suggestion.closest(to: "ru", among: ["run", "to"]) == "run")
    #expect(Suggestion.closest(to: "x", among: ["to"]) == nil)
}

@Test func diagnosticsAreSortedByLocation() throws {
    let error = try #require(manifestError("zzz = 1\n[base]\nimage = 1\n[cache]\nregistry = 2\n"))
    #expect(error.diagnostics.map(\.location.line) == [1, 3, 5])
}
