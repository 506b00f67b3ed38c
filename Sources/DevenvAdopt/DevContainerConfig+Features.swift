import DevenvManifest
import Foundation

extension DevContainerConfig {
    /// `features` and `overrideFeatureInstallOrder`; the features themselves are fetched
    /// and read by the Kit (`FeatureResolver`).
    mutating func readFeatures(_ json: DevContainerJSON, diagnostics: inout [Diagnostic]) {
        features = FeatureRequest.readAll(json["features"], key: "features", diagnostics: &diagnostics)
        featureInstallOrder = FeatureRequest.readStrings(json["overrideFeatureInstallOrder"], key: "overrideFeatureInstallOrder", diagnostics: &diagnostics)
    }
}
