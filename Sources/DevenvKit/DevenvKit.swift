// DevenvKit
