"""Annotation keys and values the Knative controllers read, checked before they are
silently ignored: a misspelt key (`minScale`, `min_scale`) or a cluster-wide setting used
as an annotation (`scale-to-zero-grace-period`) does nothing at all in a cluster."""
import re

from .findings import Doc, Finding, field_path

_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^0$")
_INT = re.compile(r"^\d+$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
# Value syntax of the keys whose value is not free text (knative.dev/serving autoscaling docs).
_VALUE_RULES = {
    "min-scale": (_INT, "a non-negative integer"),
    "max-scale": (_INT, "a non-negative integer (0 = unlimited)"),
    "initial-scale": (_INT, "a non-negative integer"),
    "activation-scale": (_INT, "a positive integer"),
    "target": (_NUMBER, "a positive number"),
    "target-utilization-percentage": (_NUMBER, "a percentage"),
    "target-burst-capacity": (re.compile(r"^-1$|^\d+(\.\d+)?$"), "-1, 0 or a positive number"),
    "panic-window-percentage": (_NUMBER, "a percentage"),
    "panic-threshold-percentage": (_NUMBER, "a percentage"),
    "window": (_DURATION, "a duration such as 60s"),
    "scale-down-delay": (_DURATION, "a duration such as 5m"),
    "scale-to-zero-pod-retention-period": (_DURATION, "a duration such as 1m"),
    "metric": (re.compile(r"^(concurrency|rps|cpu|memory)$"), "concurrency, rps, cpu or memory"),
    "polling-interval": (_INT, "seconds, an integer"),
    "cooldown-period": (_INT, "seconds, an integer"),
    "lag-threshold": (_INT, "an integer"),
    "activation-lag-threshold": (_INT, "an integer"),
}
# Where each prefix is read: Knative Serving reads revision annotations from the template.
_PLACES = {
    "autoscaling.knative.dev": {("serving.knative.dev", "Service"): ["spec", "template", "metadata"],
                                ("serving.knative.dev", "Configuration"): ["spec", "template", "metadata"],
                                ("serving.knative.dev", "Revision"): ["metadata"]},
    "autoscaling.eventing.knative.dev": {("sources.knative.dev", "KafkaSource"): ["metadata"],
                                         ("messaging.knative.dev", "KafkaChannel"): ["metadata"]},
}


def check_annotations(doc: Doc, store) -> list[Finding]:
    body = doc.body if isinstance(doc.body, dict) else {}
    group = str(body.get("apiVersion", "")).rpartition("/")[0]
    findings = []
    for place in _places_with_annotations(body):
        annotations = _get(body, place + ["annotations"]) or {}
        if not isinstance(annotations, dict):
            continue
        for key, value in annotations.items():
            prefix, _, suffix = str(key).partition("/")
            known = store.annotations.get(prefix)
            if not known or not suffix:
                continue
            path = field_path(place + ["annotations", key])
            read_at = _PLACES.get(prefix, {}).get((group, doc.kind))
            if prefix in _PLACES and read_at != place:
                where = field_path(read_at + ["annotations"]) if read_at else "a resource that reads it"
                findings.append(doc.finding(path, f"{key} is not read here; it belongs in {where}"))
            elif suffix in known["deprecated"]:
                canonical = _canonical(suffix, known["keys"])
                findings.append(doc.finding(path, f"deprecated spelling {key!r}: use '{prefix}/{canonical}'"))
            elif suffix in known["cluster_wide"]:
                findings.append(doc.finding(path, f"{suffix!r} is a cluster-wide setting (ConfigMap "
                                                  f"config-autoscaler in knative-serving), not a per-revision annotation"))
            elif suffix not in known["keys"]:
                findings.append(doc.finding(path, f"unknown annotation {key!r}; known: {', '.join(known['keys'])}"))
            elif isinstance(value, str) and suffix in _VALUE_RULES:
                pattern, expected = _VALUE_RULES[suffix]
                if not pattern.match(value):
                    findings.append(doc.finding(path, f"{value!r} is not {expected}"))
    findings += _scale_bounds(doc, body)
    return findings


def _scale_bounds(doc: Doc, body: dict) -> list[Finding]:
    place = ["spec", "template", "metadata"] if doc.kind in ("Service", "Configuration") else ["metadata"]
    annotations = _get(body, place + ["annotations"]) or {}
    low = annotations.get("autoscaling.knative.dev/min-scale") if isinstance(annotations, dict) else None
    high = annotations.get("autoscaling.knative.dev/max-scale") if isinstance(annotations, dict) else None
    found = []
    if isinstance(low, str) and isinstance(high, str) and low.isdigit() and high.isdigit():
        if int(high) != 0 and int(low) > int(high):
            found.append(doc.finding(field_path(place + ["annotations"]), f"min-scale {low} exceeds max-scale {high}"))
    # A soft target above the hard limit can never be reached: the autoscaler would wait
    # for concurrency that queue-proxy never lets through.
    target = annotations.get("autoscaling.knative.dev/target") if isinstance(annotations, dict) else None
    spec = _get(body, place[:-1] + ["spec"]) if doc.kind in ("Service", "Configuration") else body.get("spec")
    limit = spec.get("containerConcurrency") if isinstance(spec, dict) else None
    if isinstance(target, str) and _NUMBER.match(target) and isinstance(limit, int) and 0 < limit < float(target):
        found.append(doc.finding(field_path(place + ["annotations", "autoscaling.knative.dev/target"]),
                                 f"{target} exceeds containerConcurrency {limit}"))
    return found


def _places_with_annotations(body: dict) -> list[list]:
    places = [["metadata"]]
    if isinstance(_get(body, ["spec", "template", "metadata"]), dict):
        places.append(["spec", "template", "metadata"])
    return places


def _canonical(deprecated: str, keys: list[str]) -> str:
    dashed = re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), deprecated)
    return dashed if dashed in keys else deprecated


def _get(body, parts):
    for part in parts:
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body
