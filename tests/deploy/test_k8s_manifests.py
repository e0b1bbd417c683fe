"""deploy/: every Kubernetes manifest validates offline. Core kinds go through
kubernetes-validate (PyPI; ships the Kubernetes JSON schemas) in strict mode; KEDA's
ScaledObject / TriggerAuthentication, which it does not ship, through the JSON schema in
tests/deploy/schemas/ (a hand-written strict subset of KEDA's CRD). Then the wiring: what
scales what, on which consumer group, with which volumes and GPUs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from recstream.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S_VERSION = "1.30.0"
KEDA_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "keda.sh_v1alpha1.json")
                         .read_text())
MANIFESTS = sorted(p for p in DEPLOY.glob("*.yaml") if p.name != "kustomization.yaml")


def load(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def resources() -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for p in MANIFESTS for d in load(p)}


def validate(doc: dict[str, Any]) -> None:
    if doc["apiVersion"].startswith("keda.sh/"):
        schema = {**KEDA_SCHEMA, "$ref": f"#/$defs/{doc['kind']}"}
        jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    else:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_validates(path: Path) -> None:
    docs = load(path)
    assert docs
    for doc in docs:
        validate(doc)


def test_validation_is_not_vacuous() -> None:
    r = resources()
    bad = copy.deepcopy(r[("StatefulSet", "recstream-worker")])
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(bad)
    bad = copy.deepcopy(r[("ScaledObject", "recstream-worker")])
    del bad["spec"]["triggers"][0]["metadata"]["consumerGroup"]
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)
    bad = copy.deepcopy(r[("ScaledObject", "recstream-worker")])
    bad["spec"]["maxReplicas"] = 3  # KEDA spells it maxReplicaCount
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)


def test_kustomization_lists_every_manifest() -> None:
    kust = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    assert sorted(kust["resources"]) == sorted(p.name for p in MANIFESTS)
    assert {d["metadata"].get("namespace", kust["namespace"]) for p in MANIFESTS
            for d in load(p) if d["kind"] != "Namespace"} == {kust["namespace"]}


def test_workers_statefulset_keeps_rocksdb_on_a_volume_and_routes_by_pod_ip() -> None:
    r = resources()
    sts = r[("StatefulSet", "recstream-worker")]
    config = r[("ConfigMap", "recstream-config")]["data"]
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    (mount,) = [m for m in c["volumeMounts"] if m["name"] == claim["metadata"]["name"]]
    assert mount["mountPath"] == config["RECSTREAM_WORKER__DATA_DIR"]
    assert int(config["RECSTREAM_WORKER__STANDBY_REPLICAS"]) >= 1
    env = {e["name"]: e for e in c["env"]}
    assert env["RECSTREAM_WORKER__WEB_HOST"]["value"] == "$(POD_IP)"
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    assert c["args"][0] == "worker"
    assert sts["spec"]["serviceName"] in {name for kind, name in r if kind == "Service"}
    port = int(config["RECSTREAM_WORKER__WEB_PORT"])
    assert c["ports"][0]["containerPort"] == port
    assert c["readinessProbe"]["httpGet"]["path"] == "/health"
    ann = sts["spec"]["template"]["metadata"]["annotations"]
    assert ann["prometheus.io/path"] == "/metrics" and int(ann["prometheus.io/port"]) == port
    # the ConfigMap's keys are real settings
    s = Settings(bootstrap=config["RECSTREAM_BOOTSTRAP"], app_id=config["RECSTREAM_APP_ID"])
    assert s.group_id == "recstream"


def test_scorer_requests_a_gpu() -> None:
    dep = resources()[("Deployment", "recstream-scorer")]
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert c["args"] == ["scorer"]


def test_keda_scales_workers_and_scorers_on_their_groups_lag() -> None:
    r = resources()
    config = r[("ConfigMap", "recstream-config")]["data"]
    workers = r[("ScaledObject", "recstream-worker")]["spec"]
    assert workers["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "StatefulSet",
                                         "name": "recstream-worker"}
    assert workers["maxReplicaCount"] == int(config["RECSTREAM_TOPICS__PARTITIONS"])
    kafka = next(t for t in workers["triggers"] if t["type"] == "kafka")["metadata"]
    assert kafka["consumerGroup"] == config["RECSTREAM_APP_ID"]
    assert kafka["bootstrapServers"] == config["RECSTREAM_BOOTSTRAP"]
    prom = next(t for t in workers["triggers"] if t["type"] == "prometheus")["metadata"]
    assert "kafka_consumergroup_group_max_lag_seconds" in prom["query"]
    scorer = r[("ScaledObject", "recstream-scorer")]["spec"]
    assert scorer["scaleTargetRef"]["kind"] == "Deployment"
    assert scorer["scaleTargetRef"]["name"] == "recstream-scorer"
    (trig,) = scorer["triggers"]
    assert trig["metadata"]["consumerGroup"] == f"{config['RECSTREAM_APP_ID']}-scorer"
    auth = r[("TriggerAuthentication", "recstream-kafka")]["spec"]["secretTargetRef"]
    secret = r[("Secret", "recstream-kafka-auth")]["stringData"]
    assert all(ref["key"] in secret for ref in auth)
