"""Recommendation function targets. For now only the consumer that records co-purchases; the
model that serves recommendations from them comes later."""
import functions_framework

from fnkit.consumer import consumer

from recommendations import service


@functions_framework.cloud_event
@consumer("com.fnshop.order.paid")
def recommendations_record_copurchases(cur, event):
    """Fed by KafkaSource recommendations-record-copurchases (topic orders)."""
    service.record_order(cur, event)
