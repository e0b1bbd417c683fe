"""The stream contract: the Faust app factory, topics, records, codecs, tables, replicas,
producers, consumers and the local broker. The only package (with agents/) that imports Kafka.
"""
