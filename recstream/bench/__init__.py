"""Pure parts of ``recstream bench``: synthetic workload, latency/throughput maths, /proc parsing.

The Kafka side (producing at a rate, the bare-client ceiling) lives in streams/bench.py.
"""
