import DevenvOCI
import DevenvRuntime
import DevenvStore
import DevenvSystem

/// Applies layers in a rootless store the way rootless podman and buildah do: inside the
/// user namespace with devenv's one mapping (`NamespaceHelper`), whose root chowns every
/// node to the owner its layer gives it. On disk a snapshot's files then belong to the
/// subordinate ids those owners map to, so a step or shell sees the image's owners, and a
/// commit read in the same namespace records them. Whiteouts are `user.overlay.*`
/// (overlay's `userxattr`). A blob still downloading is unpacked as it arrives, as root's
/// are: the helper follows the ingest file while this process tells it how far the
/// download got (`NamespaceHelper.unpack(growing:)`).
struct NamespaceLayerUnpacker: LayerUnpacking {
    let mapping: IDMapping

    func unpack(layerAt path: String, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest {
        try NamespaceHelper.unpack(layerAt: path, declared: declared, into: target, mapping: mapping)
    }

    func unpack(growing layer: GrowingFile, declared: LayerCompression?, into target: UnpackTarget) throws -> Digest {
        try NamespaceHelper.unpack(growing: layer, declared: declared, into: target, mapping: mapping)
    }
}
