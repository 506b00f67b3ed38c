// DevenvSeccomp
