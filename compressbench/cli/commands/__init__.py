"""One module per sub-command of ``compressbench`` (discovered by the CLI)."""
