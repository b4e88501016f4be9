"""release-bot: turns merged pull requests into versioned Zenodo releases of the SCoPe catalog."""

__version__ = "0.1.0"
USER_AGENT = f"release-bot/{__version__} (+https://github.com/ZwickyTransientFacility/scope)"
