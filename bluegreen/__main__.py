"""`python -m bluegreen …`: the command line, as the `bluegreen` script runs it."""

from bluegreen.cli import main

if __name__ == "__main__":
    main()
