"""HTTP on the worker's web port: ``GET /recommendations/{user_id}``, ``/health``,
``/metrics`` (Prometheus, streams/metrics.py) and ``/dashboard/`` (streams/dashboard/).

The latest record lives in the ``latest_recommendations`` table on the worker that owns the
user's partition; Faust's table_route forwards a request that reaches another worker.
"""

from __future__ import annotations

from typing import Any

from streams.app import Pipeline
from streams.dashboard import register_dashboard
from streams.metrics import register_metrics


def register_web(p: Pipeline) -> None:
    register_metrics(p)
    register_dashboard(p)

    @p.app.page("/recommendations/{user_id}")
    @p.app.table_route(table=p.latest, match_info="user_id")
    async def latest_recommendations(web: Any, request: Any, user_id: str) -> Any:
        record = p.latest.get(user_id)
        if record is None:
            return web.json({"error": "unknown user", "user_id": user_id}, status=404)
        return web.json(record)

    @p.app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        return web.json({"ready": p.replica.ready.is_set(), "items": len(p.view.catalogue),
                         "replicated_records": p.replica.records})
