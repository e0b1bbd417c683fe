"""HTTP on the worker's web port (bound to ``worker.web_host``, 127.0.0.1 by default):
``GET /recommendations/{user_id}``, ``/health``, ``/metrics`` (Prometheus,
streams/metrics.py), ``/dashboard/`` (streams/dashboard/), and the state-changing
``POST /forget/{user_id}``, which needs ``Authorization: Bearer <worker.admin_token>``.

The latest record lives in the ``latest_recommendations`` table, keyed by the user's
pseudonym, on the worker that owns the pseudonym's partition; a request that reaches another
worker is forwarded there by Faust's router. GET endpoints need no token.
"""

from __future__ import annotations

import hmac
from typing import Any

from faust.exceptions import SameNode
from faust.web import View

from recstream.core.privacy import SEALED, pseudonym, unseal
from recstream.core.process import PUBLISHED
from streams.app import Pipeline
from streams.dashboard import register_dashboard
from streams.forget import ForgetError, request_forget
from streams.metrics import register_metrics


def authorised(header: str | None, token: str | None) -> bool:
    """Whether an ``Authorization`` header carries the admin bearer token (constant time);
    never true when no token is configured."""
    if not token or not header:
        return False
    return hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


def register_web(p: Pipeline) -> None:
    register_metrics(p)
    register_dashboard(p)
    key = p.privacy_key
    secret = p.settings.worker.admin_token
    token = secret.get_secret_value() if secret else None

    @p.app.page("/recommendations/{user_id}")
    async def latest_recommendations(web: Any, request: Any, user_id: str) -> Any:
        pseud = pseudonym(key, user_id)
        try:  # the worker owning the pseudonym's partition answers
            return await p.app.router.route_req(p.latest.name, pseud, web.web, request)
        except SameNode:
            pass
        record = p.latest.get(pseud)
        if record is None:
            return web.json({"error": "unknown user", "user_id": user_id}, status=404)
        out = {k: v for k, v in record.items() if k not in (SEALED, PUBLISHED)}
        out["user_id"] = user_id
        if record.get(SEALED):  # the producer's event id, as the recommendations topic has it
            out["trigger_event_id"] = unseal(key, record[SEALED])["event_id"]
        return web.json(out)

    @p.app.page("/forget/{user_id}")
    class Forget(View):
        async def post(self, request: Any, user_id: str) -> Any:
            if not authorised(request.headers.get("Authorization"), token):
                why = ("missing or wrong bearer token" if token else
                       "no admin token configured (set RECSTREAM_WORKER__ADMIN_TOKEN)")
                return self.json({"error": f"unauthorised: {why}"}, status=401,
                                 headers={"WWW-Authenticate": "Bearer"})
            try:
                out = await request_forget(p.settings, key, user_id,
                                           p.settings.privacy.forget_timeout_s)
            except ForgetError as e:
                return self.json({"error": str(e), "user_id": user_id}, status=504)
            return self.json(out)

    @p.app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        owned = sorted(tp.partition for tp in p.app.assignor.assigned_actives()
                       if tp.topic == p.names.events)
        body = {"ready": p.replica.ready.is_set(), "items": len(p.view.catalogue),
                "replicated_records": p.replica.records,
                "rebalancing": bool(p.app.rebalancing), "events_partitions": owned}
        if p.scoring is not None and p.scoring.local:  # the scorer's vectors replicated here
            body["item_embeddings"] = len(p.scoring.embeddings)
        return web.json(body)
