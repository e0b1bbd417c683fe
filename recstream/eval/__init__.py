"""Offline evaluation: exact protocols (split, loo, prequential), variants and classic peers.

Pure code: it replays datasets through :class:`recstream.core.process.MemoryPipeline` (the
functions the agents call) in one process and never imports Kafka clients. EVALUATION.md
describes the protocols and holds the measured tables.
"""
