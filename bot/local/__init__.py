"""Bundled Zenodo- and GitHub-compatible servers for the demo and the tests (loopback only)."""
