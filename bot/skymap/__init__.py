"""The sky map of a release: where on the sky its fields lie (footprints gathered by the validation pass)."""
