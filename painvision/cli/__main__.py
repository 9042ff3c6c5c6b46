from painvision.cli.app import main

main()
