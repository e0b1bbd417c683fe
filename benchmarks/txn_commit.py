"""How long does one publish transaction take on a quiet partition, by retry backoff?

    B=127.0.0.1:9092 [N=200] [GAP_MS=30] .venv/bin/python benchmarks/txn_commit.py

What the user agent does per batch and partition (streams/publish.py): begin, send one
recommendation, commit the group's input offset in the transaction, commit; then wait GAP_MS
(the next batch at a trickle) and do it again. A read-committed consumer measures send →
visible. Runs the same loop with aiokafka's default retry backoff (100 ms) and with
streams.publish.TXN_RETRY_BACKOFF_MS, on fresh topics and transactional ids, and prints one
RESULT line per backoff. Needs a running broker (``recstream broker start``).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from recstream.ops.stats import percentile
from streams.publish import TXN_RETRY_BACKOFF_MS

BOOT = os.environ["B"]
N = int(os.environ.get("N", "200"))
GAP_S = float(os.environ.get("GAP_MS", "30")) / 1e3


async def run(backoff_ms: int) -> dict[str, float | None]:
    tag = uuid.uuid4().hex[:8]
    out, inp, group = f"txn-{tag}-out", f"txn-{tag}-in", f"txn-{tag}-g"
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOT)
    await admin.start()
    await admin.create_topics([NewTopic(out, 1, 1), NewTopic(inp, 1, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=BOOT, linger_ms=1, acks="all",
                                transactional_id=f"txn-{tag}", retry_backoff_ms=backoff_ms)
    reader = AIOKafkaConsumer(out, bootstrap_servers=BOOT, isolation_level="read_committed",
                              auto_offset_reset="earliest", fetch_max_wait_ms=100)
    await producer.start()
    await reader.start()
    commit_s, visible_s = [], []
    try:
        for i in range(N):
            t0 = time.perf_counter()
            await producer.begin_transaction()
            sent = await producer.send(out, value=str(t0).encode(), partition=0)
            await producer.send_offsets_to_transaction({TopicPartition(inp, 0): i + 1}, group)
            await sent
            await producer.commit_transaction()
            commit_s.append(time.perf_counter() - t0)
            while True:
                got = await reader.getmany(timeout_ms=1000)
                if any(m.value == str(t0).encode() for ms in got.values() for m in ms):
                    visible_s.append(time.perf_counter() - t0)
                    break
            await asyncio.sleep(GAP_S)
    finally:
        await reader.stop()
        await producer.stop()
    c, v = sorted(commit_s), sorted(visible_s)
    ms = lambda xs, q: round(1e3 * (percentile(xs, q) or 0.0), 1)  # noqa: E731
    return {"commit_p50_ms": ms(c, 0.5), "commit_p99_ms": ms(c, 0.99),
            "visible_p50_ms": ms(v, 0.5), "visible_p99_ms": ms(v, 0.99)}


async def main() -> None:
    for backoff in (100, TXN_RETRY_BACKOFF_MS):
        res = await run(backoff)
        print(f"RESULT retry_backoff_ms={backoff} transactions={N} gap_ms={GAP_S * 1e3:.0f} "
              + " ".join(f"{k}={v}" for k, v in res.items()), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
