from pprflow.cli import main

main()
