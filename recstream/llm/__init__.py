"""The language-model side of recstream: encoder, item/user embeddings, scoring, batching,
fine-tuning. Pure code: never imports Kafka clients or Faust (ruff TID251)."""
