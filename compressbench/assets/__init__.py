"""External assets (tokenizer vocabularies): pinned by sha256, found offline, cached atomically."""
