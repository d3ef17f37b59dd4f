"""Puts tests/ on sys.path (rootdir conftest) so fakes.py and stack.py import as modules."""
