// swift-tools-version:6.0
import PackageDescription

/// Dependencies point down: CLI -> Kit -> Runtime/Store/Archive -> OCI/System.
/// Only DevenvArchive imports libarchive, only DevenvSeccomp imports libseccomp,
/// only DevenvOCI imports libcrypto, only DevenvSystem imports CDevenvShim. See docs/architecture.md.
/// The front end and devenv-init are static executables, so no dynamic loader runs at each
/// container start (docs/architecture.md): an exec'd init (rootless environments, build
/// steps) starts in a third of the time. The static FoundationEssentials archive must be followed by the
/// archives it uses. Swift 6.0's needs ICU's static libraries too, which Debian's swiftlang
/// 6.0 (devenv's own environment) does not ship, so 6.0 links the front end dynamically.
#if compiler(>=6.1)
let frontEndLinking: [LinkerSetting] = [
    .unsafeFlags(["-static-executable"]),
    .linkedLibrary("_FoundationCollections"), .linkedLibrary("_FoundationCShims"), .linkedLibrary("swiftSynchronization"),
]
#else
let frontEndLinking: [LinkerSetting] = []
#endif

/// `--debug` logs through swift-log (the CLI's stderr handler). The one version available,
/// 1.16, needs the 6.2 package manager; older toolchains build the CLI without it and print
/// the same lines themselves (DebugLogging).
#if compiler(>=6.2)
let loggingPackages: [Package.Dependency] = [.package(url: "https://github.com/apple/swift-log", from: "1.6.0")]
let loggingProducts: [Target.Dependency] = [.product(name: "Logging", package: "swift-log")]
#else
let loggingPackages: [Package.Dependency] = []
let loggingProducts: [Target.Dependency] = []
#endif

let package = Package(
    name: "devenv",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "devenv", targets: ["devenv"]),
        .executable(name: "devenv-core", targets: ["devenv-core"]),
        .executable(name: "devenv-init", targets: ["devenv-init"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // YAML CDI specs (DevenvKit only: the runtime and the static front end stay without it).
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ] + loggingPackages,
    targets: [
        // System libraries through pkg-config.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Our own C: only what Swift cannot do safely (clone -> exec window, raw syscalls).
        .target(name: "CDevenvShim"),

        // Pure layers.
        .target(name: "DevenvText"),
        .target(name: "DevenvOCI", dependencies: ["DevenvText", "CCrypto"]),
        .target(name: "DevenvSystem", dependencies: ["DevenvText", "CDevenvShim"]),
        .target(name: "DevenvManifest", dependencies: ["DevenvText"]),
        // The step vocabulary every front end lowers to and the builder runs.
        .target(name: "DevenvPlan", dependencies: ["DevenvOCI", "DevenvText"]),
        // Project files devenv adopts as they are: Dockerfile and devcontainer.json -> steps (no I/O).
        .target(name: "DevenvAdopt", dependencies: ["DevenvPlan", "DevenvManifest", "DevenvOCI", "DevenvText"]),

        // Mechanisms.
        .target(name: "DevenvArchive", dependencies: ["DevenvOCI", "DevenvSystem", "CArchive", "CZlib", "CZstd"]),
        .target(name: "DevenvStore", dependencies: ["DevenvOCI", "DevenvSystem"]),
        .target(name: "DevenvSeccomp", dependencies: ["CSeccomp", "DevenvSystem"]),
        .target(name: "DevenvGit", dependencies: ["DevenvText", "CGit2"]),
        .target(name: "DevenvRuntime", dependencies: ["DevenvText", "DevenvSystem", "DevenvSeccomp"]),
        // Pure: what run/shell options ask for and the developer's container that means (user, env, shell, working tree).
        .target(name: "DevenvSession", dependencies: ["DevenvRuntime", "DevenvSeccomp", "DevenvSystem"]),

        .target(name: "DevenvRegistry", dependencies: ["DevenvOCI", "DevenvStore", "DevenvSystem", "CCurl"]),
        .target(name: "DevenvBuild", dependencies: ["DevenvPlan", "DevenvOCI", "DevenvStore", "DevenvArchive", "DevenvSystem"]),

        // Use cases and the command line.
        .target(name: "DevenvKit", dependencies: ["DevenvOCI", "DevenvStore", "DevenvBuild", "DevenvPlan", "DevenvAdopt", "DevenvRegistry", "DevenvManifest", "DevenvGit", "DevenvArchive", "DevenvRuntime", "DevenvSeccomp", "DevenvSession", "DevenvSystem",
                                              .product(name: "Yams", package: "Yams")]),
        // Warm starts of `run`/`shell` in the front end: no registry, git, archive or ArgumentParser.
        .target(name: "DevenvLaunch", dependencies: ["DevenvRuntime", "DevenvSession", "DevenvStore", "DevenvOCI", "DevenvSystem"]),
        .target(name: "DevenvCLI", dependencies: [
            "DevenvKit", "DevenvAdopt", "DevenvLaunch", "DevenvPlan", "DevenvSession", "DevenvOCI", "DevenvStore", "DevenvArchive", "DevenvBuild", "DevenvManifest", "DevenvRuntime", "DevenvRegistry", "DevenvSystem",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ] + loggingProducts),
        // What users start: warm starts itself, everything else through devenv-core.
        .executableTarget(name: "devenv", dependencies: ["DevenvLaunch", "DevenvRuntime"], linkerSettings: frontEndLinking),
        // The whole CLI.
        .executableTarget(name: "devenv-core", dependencies: ["DevenvCLI", "DevenvRuntime"]),
        // The container's init alone: far fewer libraries to load than devenv at every start.
        .executableTarget(name: "devenv-init", dependencies: ["DevenvRuntime"], linkerSettings: frontEndLinking),

        .testTarget(name: "DevenvOCITests", dependencies: ["DevenvOCI"]),
        .testTarget(name: "DevenvSystemTests", dependencies: ["DevenvSystem", "DevenvTestSupport"]),
        .testTarget(name: "DevenvArchiveTests", dependencies: ["DevenvArchive", "DevenvOCI", "DevenvSystem", "CArchive", "DevenvTestSupport"]),
        .testTarget(name: "DevenvStoreTests", dependencies: ["DevenvStore", "DevenvOCI", "DevenvArchive"]),
        // Shared by the test targets: scratch directories, a real registry on a free port.
        .target(name: "DevenvTestSupport", path: "Tests/DevenvTestSupport"),
        .testTarget(name: "DevenvRegistryTests", dependencies: ["DevenvRegistry", "DevenvOCI", "DevenvStore", "DevenvTestSupport"]),
        .testTarget(name: "DevenvBuildTests", dependencies: ["DevenvArchive", "DevenvBuild", "DevenvPlan", "DevenvOCI", "DevenvStore", "DevenvTestSupport"]),
        .testTarget(name: "DevenvSeccompTests", dependencies: ["DevenvSeccomp", "DevenvTestSupport"]),
        .testTarget(name: "DevenvRuntimeTests", dependencies: ["DevenvRuntime", "DevenvSession", "DevenvSystem", "DevenvTestSupport"]),
        .testTarget(name: "DevenvManifestTests", dependencies: ["DevenvManifest"]),
        .testTarget(name: "DevenvGitTests", dependencies: ["DevenvGit"]),
        .testTarget(name: "DevenvAdoptTests", dependencies: ["DevenvAdopt", "DevenvPlan", "DevenvManifest", "DevenvOCI"]),
        .testTarget(name: "IntegrationTests", dependencies: ["DevenvOCI", "DevenvSystem", "DevenvTestSupport"]),
        .testTarget(name: "DevenvLaunchTests", dependencies: ["DevenvLaunch", "DevenvSession", "DevenvCLI", "DevenvRuntime", "DevenvTestSupport"]),
        // Checks the module layering table of docs/architecture.md against the sources.
        .testTarget(name: "ArchitectureTests"),
        .testTarget(name: "DevenvCLITests", dependencies: ["DevenvCLI", "DevenvBuild", "DevenvOCI", "DevenvRegistry"]),
        .testTarget(name: "DevenvKitTests", dependencies: ["DevenvKit", "DevenvAdopt", "DevenvPlan", "DevenvBuild", "DevenvManifest", "DevenvOCI", "DevenvRuntime", "DevenvSession", "DevenvStore", "DevenvTestSupport"]),
    ]
)
