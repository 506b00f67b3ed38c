import DevenvManifest
import DevenvPlan
import Testing
@testable import DevenvKit

/// A manifest's steps lowered to the shared step vocabulary: what each does (the cache key)
/// and what progress, history and `--explain` call it (the manifest's own words).
struct ManifestLoweringTests {
    static let manifest = """
        [base]
        image = "busybox"

        [[step]]
        run = "make"
        cache = ["/root/.cache"]
        network = "none"

        [[step]]
        run = ["make", "-j4"]

        [[step]]
        packages = ["git", "make"]

        [[step]]
        workdir = "/app"

        [[step]]
        copy = ["src", "README.md"]

        [[step]]
        env = { PATH = "/opt/bin:$PATH" }

        [[step]]
        user = "dev"
        """

    @Test func eachStepKind() throws {
        let manifest = try Manifest.parse(Array(Self.manifest.utf8), path: ".devenv/devenv.toml")
        var workdir = "/"
        let lowered = manifest.steps.map { BuildPlanner.lower($0.action, workdir: &workdir) }
        let packages = PackageInstaller.command(installing: ["git", "make"])
        #expect(lowered.map(\.1) == [
            "run make", "run make -j4", "run \(packages[2])", "workdir /app", "copy src README.md -> /app/",
            "env PATH=/opt/bin:$PATH", "user dev",
        ])
        #expect(lowered.map(\.0) == [
            .run(RunStep(command: ["/bin/sh", "-c", "make"], cacheMounts: [CacheMount(target: "/root/.cache")], network: .none)),
            .run(RunStep(command: ["make", "-j4"])),
            .run(RunStep(command: packages, cacheMounts: PackageInstaller.cacheDirectories.map { CacheMount(target: $0) },
                         packageLayers: PackageLayers(limit: PackageLayers.defaultLimit))),
            .workdir(WorkdirStep(path: "/app", createsDirectory: false)),
            .copy(CopyStep(sources: ["src", "README.md"], destination: "/app/")),
            .config([.env([EnvironmentVariable(name: "PATH", value: "/opt/bin:$PATH")], expands: true)]),
            .config([.user("dev")]),
        ])
    }

    /// A `packages` step's `layers` reaches the builder's step (and so its cache key).
    @Test func packageLayersOfAStep() throws {
        let text = "[base]\nimage = \"debian\"\n[[step]]\npackages = [\"git\"]\nlayers = 3\n"
        let manifest = try Manifest.parse(Array(text.utf8), path: ".devenv/devenv.toml")
        var workdir = "/"
        let (step, _) = BuildPlanner.lower(manifest.steps[0].action, workdir: &workdir, layers: manifest.steps[0].layers?.value)
        guard case let .run(run) = step else { Issue.record("not a run step"); return }
        #expect(run.packageLayers == PackageLayers(limit: 3))
        #expect(BuildPlanner.unpinnedSteps(manifest) == [step])
    }
}
