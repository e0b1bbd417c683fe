"""How many events/s can one Faust agent process when each event writes K table keys?

    B=127.0.0.1:9092 WRITES=10 [DIRECT=1] [STORE=rocksdb://] [N=2000] \
        .venv/bin/python benchmarks/faust_table_writes.py

A self-contained faust-streaming app (no recstream code): N small messages are produced
(kafka-python) before the worker starts, then one agent consumes that backlog and writes
WRITES keys of SIZE bytes to a table per message; the rate is measured over the backlog.
Table writes go to the changelog through Faust's ProducerBuffer (send_soon, one record at a
time); with DIRECT=1 the agent writes the store and awaits the changelog send itself. Prints
one RESULT line.
Needs a running broker (``recstream broker start``).
"""

from __future__ import annotations

import os
import time

import faust

N = int(os.environ.get("N", "2000"))
WRITES = int(os.environ.get("WRITES", "10"))
SIZE = int(os.environ.get("SIZE", "500"))
PREFIX = f"ftw{int(time.time())}"

app = faust.App(PREFIX, broker=f"kafka://{os.environ['B']}",
                store=os.environ.get("STORE", "memory://"), datadir=f"/tmp/{PREFIX}",
                topic_partitions=4, producer_linger_ms=1, producer_max_batch_size=1 << 20,
                web_enabled=False, broker_commit_interval=1.0)
source = app.topic(f"{PREFIX}-src", value_serializer="json", internal=True, partitions=4)
table = app.Table("t", default=None, key_type=bytes, partitions=4)
state = {"count": 0, "t0": 0.0}
payload = "x" * SIZE


@app.agent(source)
async def process(stream):  # type: ignore[no-untyped-def]
    async for v in stream:
        if not state["count"]:
            state["t0"] = time.time()
        if os.environ.get("DIRECT") == "1":
            part = stream.current_event.message.partition
            for i in range(WRITES):
                key = f"k{v}-{i}".encode()
                table.data[key] = {"p": payload}
                await table.changelog_topic.send(key=key, value={"p": payload}, partition=part)
        else:
            for i in range(WRITES):
                table[f"k{v}-{i}"] = {"p": payload}
        state["count"] += 1
        if state["count"] == N:
            eps = N / (time.time() - state["t0"])
            print(f"RESULT writes={WRITES} size={SIZE} direct={os.environ.get('DIRECT', '0')} "
                  f"store={app.conf.store} events_per_s={eps:.0f}", flush=True)
            os._exit(0)


def produce_backlog() -> None:
    from kafka import KafkaProducer

    from streams.admin import ensure_topics

    ensure_topics(os.environ["B"], [(f"{PREFIX}-src", 4, {})])
    producer = KafkaProducer(bootstrap_servers=os.environ["B"], linger_ms=5)
    for i in range(N):
        producer.send(f"{PREFIX}-src", key=str(i).encode(), value=str(i).encode())
    producer.flush()
    producer.close()


if __name__ == "__main__":
    produce_backlog()
    worker = faust.Worker(app, loglevel="warning")
    worker.spinner = None
    worker.execute_from_commandline()
