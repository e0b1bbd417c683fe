"""Pure operations logic: consumer-lag evaluation and windowed statistics (no Kafka imports)."""
