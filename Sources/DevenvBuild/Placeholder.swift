// DevenvBuild: the builder arrives with the manifest and runtime.
