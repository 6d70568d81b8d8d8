"""The operator-facing config: alert rules, scrape config, dashboard and compose files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import yaml
from prometheus_client import generate_latest

from pipeline.metrics import Metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
METRIC = re.compile(r"\b(?:cdr_pipeline|process)_[a-z_]+")


def known_metrics() -> set[str]:
    """Every series name the worker can export (histograms with their three series)."""
    names: set[str] = set()
    for line in generate_latest(Metrics().registry).decode().splitlines():
        if line.startswith("# TYPE"):
            _, _, name, kind = line.split()
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        elif not line.startswith("#"):
            names.add(re.split(r"[{ ]", line)[0])
    return names


def test_alert_rules_cover_what_operators_must_hear() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = {r["alert"]: r for group in rules["groups"] for r in group["rules"]}
    assert set(alerts) >= {
        "CdrWorkerDown",
        "CdrWorkerRestarting",
        "CdrConsumerLagGrowing",
        "CdrUnratedRatioHigh",
        "CdrSinkFailing",
        "CdrProviderDisabled",
        "CdrInputDeletedBeforeProcessing",
        "CdrWorkHeldBack",
        "CdrCdrsTooLate",
    }
    known = known_metrics()
    for name, rule in alerts.items():
        assert rule["annotations"]["summary"], name
        for metric in METRIC.findall(rule["expr"]):
            assert metric in known, f"{name} uses {metric}, which the worker does not export"


def test_dashboard_queries_use_exported_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "cdr-pipeline.json").read_text())
    known = known_metrics()
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"] if "expr" in t]
    assert len(exprs) >= 10
    for expr in exprs:
        for metric in METRIC.findall(expr):
            assert metric in known, f"dashboard uses {metric}, which the worker does not export"
    sql = [t["rawSql"] for p in dashboard["panels"] for t in p["targets"] if "rawSql" in t]
    assert any("rated_cdrs FINAL" in q and "provider" in q for q in sql)


def test_compose_mounts_files_that_exist() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), source


def test_promtool_accepts_the_rules_and_config_where_installed() -> None:
    """CI installs Debian's prometheus package, so promtool checks them there."""
    promtool = shutil.which("promtool")
    if promtool is None:
        yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
        return
    for args in (["check", "rules", "alerts.yml"], ["check", "config", "prometheus.yml"]):
        done = subprocess.run(
            [promtool, *args],
            cwd=DEPLOY / "prometheus",
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
