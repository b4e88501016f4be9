"""The parts of the bundled Zenodo-compatible server; ``bot.local.zenodo_server`` puts them together."""
