from clusterlab.cli import run

run()
