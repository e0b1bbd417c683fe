"""The worker's live dashboard: one static page, Chart.js, and two JSON endpoints.

``GET /dashboard/`` serves ``index.html``; the page polls ``GET /dashboard/api/summary``
(this worker's :meth:`~streams.metrics.PipelineMetrics.summary`: lag of every pipeline group,
throughput, latency percentiles, degraded share) every 2 s, and looks a user up through
``GET /recommendations/{user}`` (routed to the owning worker) plus
``GET /dashboard/api/items?ids=…`` for item titles from the replicated catalogue.
Chart.js 4 is vendored under ``static/`` (minified UMD build from npm, MIT licence beside
it), so the page needs no build step and no network.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
MAX_ITEM_IDS = 200


@cache
def _asset(name: str) -> bytes:
    return (HERE / name).read_bytes()


def register_dashboard(p: Any) -> None:
    app = p.app

    @app.page("/dashboard")
    async def dashboard_redirect(web: Any, request: Any) -> Any:
        return web.bytes(b"", status=302, headers={"Location": "/dashboard/"})

    @app.page("/dashboard/")
    async def dashboard(web: Any, request: Any) -> Any:
        return web.bytes(_asset("index.html"),
                         headers={"Content-Type": "text/html; charset=utf-8"})

    @app.page("/dashboard/static/chart.umd.min.js")
    async def chart_js(web: Any, request: Any) -> Any:
        return web.bytes(_asset("static/chart.umd.min.js"), headers={
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=86400"})

    @app.page("/dashboard/api/summary")
    async def summary(web: Any, request: Any) -> Any:
        return web.json({**p.metrics.summary(), "worker": app.conf.canonical_url.human_repr(),
                         "ready": p.replica.ready.is_set(), "items": len(p.view.catalogue)})

    @app.page("/dashboard/api/items")
    async def items(web: Any, request: Any) -> Any:
        ids = [i for i in request.query.get("ids", "").split(",") if i][:MAX_ITEM_IDS]
        found = {}
        for item_id in ids:
            item = p.view.catalogue.get(item_id)
            if item is not None:
                found[item_id] = {"title": item.title, "tags": list(item.tags)}
        return web.json(found)
