"""recstream: a real-time, LLM-assisted personalised recommender on Apache Kafka."""

__version__ = "0.1.0"
