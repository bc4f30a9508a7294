from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.api.inputs import MAX_INT, query_id, valid_input
from annotator.api.pagination import Pages, paginated
from projects.api.access import project_or_404, request_user
from projects.api.views import ERRORS
from projects.models import Webhook, WebhookAction, WebhookDelivery, WebhookDeliveryStatus
from projects.permissions import Action
from projects.selectors import (
    organization_ids_administered_by,
    webhook_delivery_list,
    webhook_list_for_user,
)
from projects.services import webhook_delete, webhook_save
from projects.webhooks import webhook_redeliver


class WebhookIn(serializers.Serializer):
    project = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_INT
    )
    url = serializers.URLField(max_length=2048, required=False)
    send_payload = serializers.BooleanField(required=False)
    send_for_all_actions = serializers.BooleanField(required=False)
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookAction.choices), required=False
    )
    headers = serializers.DictField(child=serializers.CharField(max_length=1000), required=False)
    is_active = serializers.BooleanField(required=False)


class WebhookOut(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = (
            "id",
            "organization",
            "project",
            "url",
            "send_payload",
            "send_for_all_actions",
            "actions",
            "headers",
            "is_active",
            "secret",
            "created_at",
            "updated_at",
        )
        extra_kwargs = {  # noqa: RUF012 - DRF's own attribute
            "secret": {
                "help_text": "HMAC-SHA256 key of the X-Annotator-Signature header "
                "(t=<unix time>,v1=<hex of HMAC(secret, '<t>.' + body)>)."
            }
        }


class WebhookDeliveryOut(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "action",
            "status",
            "attempts",
            "response_status",
            "error",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
            "payload",
        )


def _admin_org_ids(request: Request) -> list[int]:
    return list(organization_ids_administered_by(user=request_user(request)))


class WebhookListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("project", int, required=False)],
        responses={200: WebhookOut(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        hooks = webhook_list_for_user(user=request_user(request))
        project_id = query_id(request.query_params, "project")
        if project_id is not None:
            hooks = hooks.filter(project_id=project_id)
        return Response(WebhookOut(hooks, many=True).data)

    @extend_schema(request=WebhookIn, responses={201: WebhookOut, **ERRORS})
    def post(self, request: Request) -> Response:
        data = valid_input(WebhookIn, request.data)
        if "url" not in data:
            raise ValidationError({"url": ["This field is required."]})
        project_id = data.pop("project", None)
        if project_id is not None:
            project = project_or_404(request, project_id, Action.MANAGE)
            webhook = Webhook(organization_id=project.organization_id, project=project)
        else:
            orgs = _admin_org_ids(request)
            if not orgs:
                raise PermissionDenied(
                    "Organization-wide webhooks need an organization owner or admin."
                )
            webhook = Webhook(organization_id=orgs[0])
        webhook = webhook_save(webhook=webhook, **data)
        return Response(WebhookOut(webhook).data, status=status.HTTP_201_CREATED)


def _webhook_or_404(request: Request, pk: int) -> Webhook:
    hook = webhook_list_for_user(user=request_user(request)).filter(pk=pk).first()
    if hook is None:
        raise NotFound(f"Webhook {pk} not found.")
    return hook


class WebhookDetailView(APIView):
    @extend_schema(responses={200: WebhookOut, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(WebhookOut(_webhook_or_404(request, pk)).data)

    @extend_schema(request=WebhookIn, responses={200: WebhookOut, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        webhook = _webhook_or_404(request, pk)
        data = valid_input(WebhookIn, request.data)
        data.pop("project", None)
        return Response(WebhookOut(webhook_save(webhook=webhook, **data)).data)

    put = patch

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        webhook_delete(webhook=_webhook_or_404(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
            OpenApiParameter("status", str, enum=WebhookDeliveryStatus.values),
        ],
        operation_id="webhooks_deliveries_list",
        responses={200: paginated(WebhookDeliveryOut), **ERRORS},
        description="The webhook's delivery log, newest first: every event, its attempts "
        "and the receiver's last answer.",
    )
    def get(self, request: Request, pk: int) -> Response:
        webhook = _webhook_or_404(request, pk)
        wanted = request.query_params.get("status")
        if wanted is not None and wanted not in WebhookDeliveryStatus.values:
            raise ValidationError(
                {"status": [f"Expected one of {', '.join(WebhookDeliveryStatus.values)}."]}
            )
        deliveries = webhook_delivery_list(webhook=webhook, status=wanted)
        pages = Pages()
        page = pages.paginate_queryset(deliveries, request, view=self)
        return pages.get_paginated_response(WebhookDeliveryOut(page, many=True).data)


class WebhookRedeliverView(APIView):
    @extend_schema(
        request=None,
        responses={202: WebhookDeliveryOut, **ERRORS},
        description="Send a logged event again, as a new delivery with fresh attempts.",
    )
    def post(self, request: Request, pk: int, delivery: int) -> Response:
        webhook = _webhook_or_404(request, pk)
        original = webhook_delivery_list(webhook=webhook, status=None).filter(pk=delivery).first()
        if original is None:
            raise NotFound(f"Delivery {delivery} of webhook {pk} not found.")
        again = webhook_redeliver(delivery=original)
        return Response(WebhookDeliveryOut(again).data, status=status.HTTP_202_ACCEPTED)


class WebhookInfoView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response({action.value: {"name": action.label} for action in WebhookAction})
