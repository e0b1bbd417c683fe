"""Pure recommendation logic: text features, TF-IDF profiles, similarity, CF, ranking.

Nothing here imports Kafka, Faust or RocksDB (a ruff banned-import rule enforces it), so every
function is unit-tested and benchmarked without a broker; the agents call these functions.
"""
