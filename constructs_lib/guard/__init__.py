"""The guard's command line: ``python -m constructs_lib.guard PATH...`` (see ``__main__``)."""
