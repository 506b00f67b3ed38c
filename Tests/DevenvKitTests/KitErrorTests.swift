import Testing
@testable import DevenvKit

/// Kit's errors are typed: each case names the operation and the object, and the message
/// escapes what came from a file or the command line.
@Suite struct KitErrorTests {
    @Test func representativeMessages() {
        #expect("\(KitError.copySource(location: "Dockerfile:2", instruction: "COPY", source: "missing.txt", problem: .missing(scope: .buildContext, excludedBy: ".dockerignore")))"
            == "Dockerfile:2: COPY source 'missing.txt' is not in the build context (.dockerignore excludes it)")
        #expect("\(KitError.copySource(location: ".devenv/devenv.toml:7", instruction: "copy", source: "a\u{1b}b", problem: .missing(scope: .project, excludedBy: nil)))"
            == ".devenv/devenv.toml:7: copy source 'a\\x1bb' does not exist in the project")
        #expect("\(KitError.copySource(location: "Dockerfile:3", instruction: "ADD", source: "evil", problem: .escapes(scope: .buildContext)))"
            == "Dockerfile:3: ADD source 'evil' leads outside the build context through a symlink")
        #expect("\(KitError.invalidLockFile(path: ".devenv/devenv.lock", line: 4, problem: "invalid digest 'x'"))"
            == ".devenv/devenv.lock:4: invalid digest 'x'; run `devenv lock` to rewrite the lock file")
        #expect("\(KitError.invalidLockFile(path: ".devenv/devenv.lock", line: nil, problem: "missing or invalid 'digest'"))"
            == ".devenv/devenv.lock: missing or invalid 'digest'; run `devenv lock` to rewrite the lock file")
        #expect("\(KitError.unknownAccount(kind: .group, name: "staff"))" == "group 'staff' is not in the image's /etc/group")
        #expect("\(KitError.invalidOption(option: "--compression", value: "lz4", allowed: ["zstd", "gzip", "none"]))"
            == "--compression must be zstd, gzip or none, not 'lz4'")
        #expect("\(KitError.invalidOption(option: "--format", value: "tar", allowed: ["oci", "docker"]))" == "--format must be oci or docker, not 'tar'")
        #expect("\(KitError.wouldOverwrite(path: "/p/.devenv/devenv.toml", hint: "`devenv init --force` replaces it"))"
            == "'/p/.devenv/devenv.toml' already exists; `devenv init --force` replaces it")
        #expect("\(KitError.noSuchTask(name: "x", project: ".devenv/devenv.toml", available: []))"
            == "no task 'x' in .devenv/devenv.toml; it defines no [tasks]\nhint: to run a command, put it after --: devenv run -- x")
        #expect("\(KitError.stageNotBuilt(location: nil, stage: 2))" == "stage 2 was not built")
    }

    @Test func aDevContainerProjectCannotBeLockedAndSaysWhy() {
        let error = KitError.notLockable(project: ".devcontainer/devcontainer.json", reason: "a devcontainer.json has no lock file; devenv builds it as written",
                                         hint: "to make it reproducible, pin \"image\" by digest: \"busybox@sha256:00\"")
        #expect("\(error)" == ".devcontainer/devcontainer.json: a devcontainer.json has no lock file; devenv builds it as written; to make it reproducible, pin \"image\" by digest: \"busybox@sha256:00\"")
    }
}
