from network_hub.cli.app import main

main()
