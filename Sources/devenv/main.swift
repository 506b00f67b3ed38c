import DevenvCLI

DevenvMain.main()
