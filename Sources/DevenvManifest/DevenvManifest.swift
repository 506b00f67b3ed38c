// DevenvManifest
