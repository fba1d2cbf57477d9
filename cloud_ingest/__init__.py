"""sebiao cloud ingest: many workshops, inspectors' remote review."""
