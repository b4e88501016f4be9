"""Validation of SCoPe field files: rules compiled from the row schema, a streaming engine, reports."""
