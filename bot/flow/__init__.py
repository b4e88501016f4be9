"""Orchestration of a release: plan, build, draft, approve, publish."""
