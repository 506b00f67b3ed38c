import DevenvAdopt
import DevenvManifest
import DevenvPlan
import DevenvStore

/// Entering an adopted devcontainer project with the same machinery as a manifest project:
/// `project(for:image:)` is a `Project` whose `[shell]` says what devcontainer.json says
/// (mount point, working directory, `remoteEnv`, network, mounts), so `ProjectSession.make`
/// works unchanged; `command(_:startCommands:)` runs `postStartCommand` and
/// `postAttachCommand` before the shell or command.
///
/// `devenv shell`/`run` route: `ProjectSource.locate(from:)` is `.devContainer(root)` ->
/// `DevContainerProject.load(root:)` -> `build(...)` (the image) -> `engine.store.mount(image)`
/// -> `ProjectSession.make` with `project(for:image:)` and the command from `command(_:…)`.
public enum DevContainerSession {
    /// A manifest project equivalent for sessions (it has no steps: build with
    /// `DevContainerProject.build`, not `ProjectBuild`).
    public static func project(for adopted: DevContainerProject, image: StoredImage) -> Project {
        let shell = adopted.shell(imageEnvironment: image.config.config?.env ?? [])
        let environment = shell.environment.map { entry -> Manifest.EnvironmentVariable in
            let pieces = entry.split(separator: "=", maxSplits: 1).map(String.init)
            return Manifest.EnvironmentVariable(name: pieces[0], value: pieces.count == 2 ? pieces[1] : "", location: .start)
        }
        let manifest = Manifest(
            base: Manifest.Base(image: Located(image.name, at: .start), location: .start),
            shell: Manifest.Shell(mount: Located(shell.mountPoint, at: .start), workdir: Located(shell.workingDirectory, at: .start),
                                  env: environment, network: shell.network, mounts: shell.mounts))
        return Project(root: adopted.root, manifest: manifest)
    }

    /// `command` (nil: an interactive shell) preceded by the start commands; unchanged when
    /// there are none. A failing start command ends the session with its status.
    public static func command(_ command: [String]?, startCommands: [Manifest.Command]) -> [String]? {
        guard !startCommands.isEmpty else { return command }
        var script = startCommands.map { start -> String in
            switch start {
            case let .shell(text): return "{ \(text)\n} || exit $?"
            case let .argv(arguments): return arguments.map(RunStep.shellQuote).joined(separator: " ") + " || exit $?"
            }
        }.joined(separator: "\n")
        script += "\nif [ $# -gt 0 ]; then exec \"$@\"; fi\n"
        script += "for candidate in \"$SHELL\" /bin/bash /bin/sh; do [ -n \"$candidate\" ] && [ -x \"$candidate\" ] && exec \"$candidate\"; done\n"
        script += "echo 'devenv: no shell in the image' >&2; exit 127"
        return ["/bin/sh", "-c", script, "devenv-start"] + (command ?? [])
    }
}
