"""Ingestion: parsers for the formats users bring and the two-phase resumable pipeline."""
