import DevenvOCI
import DevenvRuntime
import DevenvStore

/// Applies layers in a rootless store the way rootless podman and buildah do: inside the
/// user namespace with devenv's one mapping (`NamespaceHelper`), whose root chowns every
/// node to the owner its layer gives it. On disk a snapshot's files then belong to the
/// subordinate ids those owners map to, so a step or shell sees the image's owners, and a
/// commit read in the same namespace records them. Whiteouts are `user.overlay.*`
/// (overlay's `userxattr`). A blob still downloading is unpacked once it is complete (the
/// protocol's default): the helper reads a finished file.
struct NamespaceLayerUnpacker: LayerUnpacking {
    let mapping: IDMapping

    func unpack(layerAt path: String, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest {
        try NamespaceHelper.unpack(layerAt: path, declared: declared, into: target, mapping: mapping)
    }
}
