// DevenvArchive
