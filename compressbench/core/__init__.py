"""Core types of compressbench: samples, measurements, aggregates, specs, the registry.

Nothing in the core imports a tokenizer back-end (torch, tiktoken, ...).
"""
