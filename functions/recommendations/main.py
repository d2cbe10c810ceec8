"""Recommendation function targets: one Knative Service each, selected by FUNCTION_TARGET.

The consumer records co-purchases, a schedule trains the model from them and from the product
texts (co-purchase and content-similar neighbours), and the read serves it. numpy, scipy and
scikit-learn are imported by the training only, so the read starts fast.
"""
import functions_framework

from fnkit.consumer import consumer
from fnkit.http import endpoint, json_response
from fnkit.ids import uuid_param
from fnkit.query import query_int

from recommendations import service, serving, training


@functions_framework.cloud_event
@consumer("com.fnshop.order.paid")
def recommendations_record_copurchases(cur, event):
    """Fed by KafkaSource recommendations-record-copurchases (topic orders)."""
    service.record_order(cur, event)


@functions_framework.http
@endpoint("POST /internal/recommendations/train")
def recommendations_train(request):
    """Called by a schedule (PingSource recommendations-train posts a CloudEvent; its body is ignored)."""
    return json_response(training.train())


@functions_framework.http
@endpoint("GET /api/recommendations/{product_id}")
def recommendations_get(request, product_id):
    found = serving.recommend(uuid_param("product_id", product_id),
                              query_int(request, "limit", serving.DEFAULT_LIMIT, minimum=1, maximum=serving.MAX_LIMIT))
    return json_response(found.to_public(), headers={"X-Cache": "hit" if found.from_cache else "miss"})
