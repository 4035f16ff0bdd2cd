"""`python -m prefboard`: the same commands as the `prefboard` script."""

from prefboard.cli import main

main()
