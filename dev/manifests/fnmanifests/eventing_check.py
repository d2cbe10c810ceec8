"""Event wiring: every KafkaSource reads declared topics and delivers to something that
exists (sink and dead-letter sink); every CloudEvent function is fed by a KafkaSource."""
from .deployment_sets import DeploymentSet
from .findings import Finding
from .functions_index import Target

SINK_KINDS = {("serving.knative.dev", "Service"), ("eventing.knative.dev", "KafkaSink")}


def run(dset: DeploymentSet, services: dict, targets: list[Target]) -> list[Finding]:
    found, fed = [], set()
    topics = {str((s.body.get("spec") or {}).get("topic")) for s in dset.of_kind("eventing.knative.dev", "KafkaSink")}
    for source in dset.of_kind("sources.knative.dev", "KafkaSource"):
        spec = source.body.get("spec") or {}
        ns = (source.body.get("metadata") or {}).get("namespace", "fnshop")
        file = dset.where(source)
        for at, dest in (("spec.sink", spec.get("sink")),
                         ("spec.delivery.deadLetterSink", (spec.get("delivery") or {}).get("deadLetterSink"))):
            if not dest:
                if at == "spec.sink":
                    found.append(Finding(file, source.label, at, "missing"))
                continue
            ref = dest.get("ref")
            if not ref:
                continue  # a plain uri: nothing to resolve here
            group = str(ref.get("apiVersion", "")).rpartition("/")[0] or ref.get("group", "")
            kind, name, ref_ns = ref.get("kind"), ref.get("name"), ref.get("namespace", ns)
            if (group, kind) not in SINK_KINDS:
                found.append(Finding(file, source.label, f"{at}.ref", f"{ref.get('apiVersion')} {kind} is not a "
                                     f"fnshop sink kind (Knative Service or KafkaSink)"))
            elif dset.find(group, kind, ref_ns, name) is None:
                found.append(Finding(file, source.label, f"{at}.ref", f"no {kind} {ref_ns}/{name}"))
            elif kind == "Service" and at == "spec.sink":
                fed.add(name)
        for i, topic in enumerate(spec.get("topics") or []):
            if topic not in topics:
                found.append(Finding(file, source.label, f"spec.topics[{i}]", f"topic {topic!r} is declared by no KafkaSink"))
    for target in targets:
        if target.trigger == "cloud_event" and target.service in services and target.service not in fed:
            found.append(Finding(target.file, "", "", f"CloudEvent function {target.name} is the sink of no KafkaSource"))
    return found
