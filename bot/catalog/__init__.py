"""The catalog build: zip reading (local or HTTP ranges), a raw-copy zip writer, fields.json, manifest."""
