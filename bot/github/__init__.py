"""GitHub: an adapter over PyGithub, the sticky summary comment, approval checks, event payloads."""
