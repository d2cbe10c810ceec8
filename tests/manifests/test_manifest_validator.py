"""The validator passes on the repository and fails, naming file, document and field, on
each kind of mistake it exists to catch. Mistakes are seeded into a copy of the repo."""
from __future__ import annotations

import yaml
from conftest import ROOT, edit

PRODUCTS = "knative/base/products.yaml"


def only(findings: list[str], needle: str) -> list[str]:
    return [f for f in findings if needle in f]


def test_the_repository_manifests_pass(findings):
    assert findings(ROOT) == []


def test_an_unknown_field_is_named_with_its_path_and_a_suggestion(repo, findings):
    edit(repo / PRODUCTS, "containerConcurrency:", "containerConcurency:")
    assert only(findings(repo), "containerConcurency") == [
        f"{PRODUCTS}: Service/products-list: spec.template.spec.containerConcurency: "
        "unknown field 'containerConcurency' (did you mean 'containerConcurrency'?)"]


def test_an_enum_of_the_kubernetes_pod_spec_is_enforced_inside_a_knative_service(repo, findings):
    edit(repo / PRODUCTS, "image: fnshop/products", "image: fnshop/products\n        imagePullPolicy: Sometimes")
    assert only(findings(repo), "imagePullPolicy") == [
        f"{PRODUCTS}: Service/products-list: spec.template.spec.containers[0].imagePullPolicy: "
        "'Sometimes' is not one of ['Always', 'IfNotPresent', 'Never']"]


def test_a_wrong_type_is_reported(repo, findings):
    edit(repo / PRODUCTS, "timeoutSeconds: 10", "timeoutSeconds: ten")
    assert f"{PRODUCTS}: Service/products-list: spec.template.spec.timeoutSeconds: 'ten' is not of type 'integer'" \
        in findings(repo)


def test_a_typo_in_template_metadata_is_caught_although_the_crd_keeps_unknown_fields(repo, findings):
    edit(repo / PRODUCTS, "      annotations:\n", "      annotation:\n")
    assert any("spec.template.metadata.annotation: unknown field 'annotation'" in f for f in findings(repo))


def test_an_unknown_kind_is_an_error(repo, findings):
    (repo / "eventing" / "typo.yaml").write_text(
        "apiVersion: sources.knative.dev/v1\nkind: KafkaSauce\nmetadata: {name: x, namespace: fnshop}\n")
    [finding] = only(findings(repo), "typo.yaml")
    assert finding.startswith("eventing/typo.yaml: KafkaSauce/x: unknown kind 'KafkaSauce' of apiVersion "
                              "'sources.knative.dev/v1'")


def test_a_metadata_mistake_in_a_crd_is_caught_by_object_meta(repo, findings):
    edit(repo / "istio/gateway.yaml", "  namespace: istio-system", "  namespace: istio-system\n  label: {}")
    assert "istio/gateway.yaml: Gateway/fnshop-gateway: metadata.label: unknown field 'label' (did you mean " \
           "'labels'?)" in findings(repo)


def test_a_route_to_a_missing_service_is_reported(repo, findings):
    edit(repo / "istio/virtualservice.yaml", "authority: products-get.fnshop", "authority: products-gett.fnshop")
    assert any("istio/virtualservice.yaml: VirtualService/fnshop-api: spec.http[" in f and
               "'products-gett.fnshop.svc.cluster.local' names no Knative Service" in f for f in findings(repo))


def test_a_route_shadowed_by_an_earlier_one_is_reported(repo, findings):
    vs_path = repo / "istio/virtualservice.yaml"
    vs = yaml.safe_load(vs_path.read_text())
    routes = vs["spec"]["http"]
    get = next(r for r in routes if r["name"] == "products-get")
    routes.remove(get)
    get["match"][0]["method"] = {"regex": "GET|HEAD|PATCH"}  # now also swallows PATCH
    routes.insert(0, get)
    vs_path.write_text(yaml.safe_dump(vs, sort_keys=False))
    assert any("PATCH /api/products/{product_id} (products_update) is caught by route 'products-get'" in f
               for f in findings(repo))


def test_an_internal_endpoint_without_a_mesh_route_is_reported(repo, findings):
    vs_path = repo / "istio/internal-routes.yaml"
    docs = list(yaml.safe_load_all(vs_path.read_text()))
    internal = next(d for d in docs if d["kind"] == "VirtualService")
    internal["spec"]["http"] = [r for r in internal["spec"]["http"] if r["name"] != "inventory-commit"]
    vs_path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    assert any("(inventory_commit) is internal but no mesh VirtualService routes it" in f for f in findings(repo))


def test_an_internal_endpoint_routed_at_the_gateway_is_reported(repo, findings):
    vs_path = repo / "istio/virtualservice.yaml"
    vs = yaml.safe_load(vs_path.read_text())
    internal = yaml.safe_load_all((repo / "istio/internal-routes.yaml").read_text())
    commit = next(r for d in internal if d["kind"] == "VirtualService" for r in d["spec"]["http"]
                  if r["name"] == "inventory-commit")
    vs["spec"]["http"].insert(0, commit)
    vs_path.write_text(yaml.safe_dump(vs, sort_keys=False))
    assert any("(inventory_commit), an /internal/ endpoint, from outside" in f for f in findings(repo))


def test_a_function_without_a_service_is_reported(repo, findings):
    main = repo / "functions/products/main.py"
    main.write_text(main.read_text() + '\n\n@functions_framework.http\n@endpoint("GET /api/products/{product_id}/reviews")\n'
                    'def products_reviews(request, product_id):\n    return "[]"\n')
    found = findings(repo)
    assert any(f.startswith("functions/products/main.py: function target products_reviews has no Knative "
                            "Service 'products-reviews'") for f in found)
    assert "functions/products/main.py: GET /api/products/{product_id}/reviews (products_reviews) has no " \
           "VirtualService route" in found
    assert f"{PRODUCTS}: out of date with functions/ and knative/functions.yaml: run `task manifests:scaffold`" in found


def test_a_service_without_a_function_is_reported(repo, findings):
    docs = list(yaml.safe_load_all((repo / PRODUCTS).read_text()))
    ghost = yaml.safe_load(yaml.safe_dump(docs[0]))
    ghost["metadata"]["name"] = "products-ghost"
    (repo / PRODUCTS).write_text((repo / PRODUCTS).read_text() + "---\n" + yaml.safe_dump(ghost, sort_keys=False))
    assert any(f.startswith(f"{PRODUCTS}: Service/products-ghost: metadata.name: no function target 'products_ghost'")
               for f in findings(repo))


def test_a_service_running_another_target_is_reported(repo, findings):
    edit(repo / PRODUCTS, "value: products_list", "value: products_get")
    assert f"{PRODUCTS}: Service/products-list: spec.template.spec.containers[0].env: FUNCTION_TARGET is " \
           "'products_get', expected 'products_list'" in findings(repo)


def test_a_kafka_source_with_a_missing_sink_is_reported(repo, findings):
    (repo / "eventing" / "seeded-source.yaml").write_text("""\
apiVersion: sources.knative.dev/v1
kind: KafkaSource
metadata: {name: seeded, namespace: fnshop}
spec:
  bootstrapServers: [fnshop-kafka-bootstrap.kafka.svc:9092]
  topics: [products]
  sink:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: nobody-home}
  delivery:
    deadLetterSink:
      ref: {apiVersion: eventing.knative.dev/v1alpha1, kind: KafkaSink, name: no-such-topic}
""")
    found = findings(repo)
    assert "eventing/seeded-source.yaml: KafkaSource/seeded: spec.sink.ref: no Service fnshop/nobody-home" in found
    assert "eventing/seeded-source.yaml: KafkaSource/seeded: spec.delivery.deadLetterSink.ref: no KafkaSink " \
           "fnshop/no-such-topic" in found


def test_a_missing_setting_is_reported(repo, findings):
    config = repo / "knative/base/config.yaml"
    data = yaml.safe_load(config.read_text())
    del data["data"]["LOG_LEVEL"]
    data["data"]["LOG_LEVLE"] = "INFO"
    config.write_text(yaml.safe_dump(data))
    found = findings(repo)
    assert "knative/base/config.yaml: ConfigMap/fnshop-config: data: missing setting LOG_LEVEL (declared in " \
           "functions/kit/fnkit/config.py)" in found
    assert "knative/base/config.yaml: ConfigMap/fnshop-config: data.LOG_LEVLE: not a declared setting " \
           "(functions/kit/fnkit/config.py)" in found


def test_a_secret_setting_outside_the_secret_is_reported(repo, findings):
    template = repo / "knative/secrets/fnshop-secrets.template.yaml"
    edit(template, "  REDIS_URL:", "  REDIS_URLS:")
    found = findings(repo)
    assert "knative/secrets/fnshop-secrets.template.yaml: Secret/fnshop-secrets: stringData: missing secret " \
           "setting REDIS_URL" in found


def test_bad_knative_annotations_are_reported(repo, findings):
    edit(repo / PRODUCTS, "autoscaling.knative.dev/min-scale:", "autoscaling.knative.dev/minScale:")
    edit(repo / PRODUCTS, "autoscaling.knative.dev/target:", "autoscaling.knative.dev/scale-to-zero-grace-period:")
    edit(repo / PRODUCTS, "autoscaling.knative.dev/max-scale: '20'", "autoscaling.knative.dev/max-scal: '20'")
    found = findings(repo)
    at = f"{PRODUCTS}: Service/products-list: spec.template.metadata.annotations"
    assert f'{at}["autoscaling.knative.dev/minScale"]: deprecated spelling \'autoscaling.knative.dev/minScale\': ' \
           "use 'autoscaling.knative.dev/min-scale'" in found
    assert f'{at}["autoscaling.knative.dev/scale-to-zero-grace-period"]: \'scale-to-zero-grace-period\' is a ' \
           "cluster-wide setting (ConfigMap config-autoscaler in knative-serving), not a per-revision annotation" in found
    assert any('Service/products-list: spec.template.metadata.annotations["autoscaling.knative.dev/max-scal"]: '
               "unknown annotation" in f for f in found)


def test_a_token_endpoint_left_open_at_the_gateway_is_reported(repo, findings):
    edit(repo / "istio/authorization-jwt.yaml", "        - /api/products\n", "        - /api/productz\n")
    assert "functions/products/main.py: POST /api/products (products_create) reads a token, but no gateway " \
           "AuthorizationPolicy denies it without one" in findings(repo)


def test_a_mistake_made_by_an_overlay_patch_is_caught_in_the_rendering(repo, findings):
    edit(repo / "knative/overlays/prod/kustomization.yaml", "autoscaling.knative.dev~1min-scale\n        value: \"2\"",
         "autoscaling.knative.dev~1min-scale\n        value: 2")
    assert any(f.startswith("knative/overlays/prod (rendered): Service/products-list: spec.template.metadata."
                            'annotations["autoscaling.knative.dev/min-scale"]: 2 is not of type \'string\'')
               for f in findings(repo))


def test_the_command_line_exits_non_zero_on_findings(repo, store, capsys):
    from fnmanifests.validate import main
    edit(repo / PRODUCTS, "timeoutSeconds: 10", "timeoutSeconds: ten")
    assert main(["--root", str(repo), "-q"]) == 1
    assert "spec.template.spec.timeoutSeconds: 'ten' is not of type 'integer'" in capsys.readouterr().out


def test_a_kafka_source_wired_to_existing_objects_passes_and_its_keda_annotations_are_checked(repo, findings):
    (repo / "eventing" / "seeded-source.yaml").write_text("""\
apiVersion: sources.knative.dev/v1
kind: KafkaSource
metadata:
  name: seeded
  namespace: fnshop
  annotations:
    autoscaling.eventing.knative.dev/max-scale: "5"
    autoscaling.eventing.knative.dev/lag-treshold: "100"
spec:
  bootstrapServers: [fnshop-kafka-bootstrap.kafka.svc:9092]
  topics: [products, no-such-topic]
  sink:
    ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: products-list}
  delivery:
    deadLetterSink:
      ref: {apiVersion: eventing.knative.dev/v1alpha1, kind: KafkaSink, name: products}
""")
    assert only(findings(repo), "seeded-source.yaml") == [
        'eventing/seeded-source.yaml: KafkaSource/seeded: metadata.annotations["autoscaling.eventing.knative.dev/'
        "lag-treshold\"]: unknown annotation 'autoscaling.eventing.knative.dev/lag-treshold'; known: "
        "activation-lag-threshold, class, cooldown-period, lag-threshold, max-scale, min-scale, polling-interval",
        "eventing/seeded-source.yaml: KafkaSource/seeded: spec.topics[1]: topic 'no-such-topic' is declared by no KafkaSink"]


def test_a_public_endpoint_denied_without_a_token_is_reported(repo, findings):
    edit(repo / "istio/authorization-jwt.yaml", "        - /api/products\n", "        - /api/products\n        - /api/products/*\n")
    edit(repo / "istio/authorization-jwt.yaml", "        methods:\n        - POST\n", "        methods:\n        - GET\n        - POST\n")
    assert any("denies GET /api/products (products_list), a public endpoint, without a token" in f for f in findings(repo))


def test_a_cluster_scoped_object_with_a_namespace_is_reported(repo, findings):
    edit(repo / "istio/cluster-issuers.yaml", "  name: letsencrypt-prod\n", "  name: letsencrypt-prod\n  namespace: fnshop\n")
    assert "istio/cluster-issuers.yaml: ClusterIssuer/letsencrypt-prod: metadata.namespace: ClusterIssuer is " \
           "cluster-scoped: it takes no namespace" in findings(repo)


def test_duplicate_entries_of_a_list_map_are_reported(repo, findings):
    edit(repo / PRODUCTS, "        - name: WORKERS\n", "        - name: THREADS\n          value: '4'\n        - name: WORKERS\n")
    assert f"{PRODUCTS}: Service/products-list: spec.template.spec.containers[0].env[3]: duplicate entry " \
           "(name='THREADS'); first at [1]" in findings(repo)
