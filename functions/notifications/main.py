"""Notification function targets: the consumer of order and payment events, and a user's list
(their own, or anyone's for an admin) with read marks."""
import functions_framework

from fnkit.auth import principal_from
from fnkit.config import env_int
from fnkit.consumer import consumer
from fnkit.errors import FieldError, invalid
from fnkit.http import endpoint, json_response
from fnkit.query import query_int

from notifications import service
from notifications.messages import DEFAULT_PAGE_SIZE, KINDS, is_notification_id, is_user_id


@functions_framework.cloud_event
@consumer(*KINDS)
def notifications_record(cur, event):
    """Fed by KafkaSource notifications-record (topics orders, payments)."""
    return service.record(cur, event)


@functions_framework.http
@endpoint("GET /api/notifications/{user_id}")
def notifications_list(request, user_id):
    principal = principal_from(request.headers.get("Authorization"))
    if not is_user_id(user_id):
        raise invalid([FieldError("user_id", "is not a user id")])
    limit = query_int(request, "limit", DEFAULT_PAGE_SIZE, minimum=1, maximum=env_int("NOTIFICATIONS_CACHE_SIZE"))
    items, hit = service.list_for(principal, user_id, limit)
    return json_response({"items": items}, headers={"X-Cache": "hit" if hit else "miss"})


@functions_framework.http
@endpoint("POST /api/notifications/{notification_id}/read")
def notifications_mark_read(request, notification_id):
    principal = principal_from(request.headers.get("Authorization"))
    if not is_notification_id(notification_id):
        raise invalid([FieldError("notification_id", "must be a UUID")])
    return json_response(service.mark_read(principal, notification_id))
