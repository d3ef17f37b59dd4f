"""`python -m bluegreen.cli …`: the same command line as `python -m bluegreen`."""

from bluegreen.cli import main

if __name__ == "__main__":
    main()
