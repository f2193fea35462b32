"""Writing what a run found: results.jsonl, summary.json/.csv, report.md and terminal tables."""
