"""The API-call console over the REST API (/api/v1/calls/): run a Digistore24 call with a
connection's key, and read the history of calls."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from api.filters import KnownParameters
from api.lookups import UUID_PATTERN
from api.models import ApiToken
from api.pages import Pages
from api.permissions import ApiAccess
from api.schema import ERROR_RESPONSES
from apicall import rules
from apicall.models import ApiCall
from apicall.serializers import ApiCallSerializer, CallRequestSerializer
from apicall.services import apicall_run
from connections.models import Connection


class ConsoleAccess(ApiAccess):
    """ApiAccess, where running a call (POST) needs `apicall.use_console`, and a read-only
    token or a staff session may POST: whether a call changes data is known only once it is
    validated, so the view refuses a write on a read-only token then (403)."""

    perms_map = {**ApiAccess.perms_map, "POST": ["apicall.use_console"]}

    def may_send_unsafe(self, token):
        return True


class NewestFirst(Pages):
    ordering = "-created"


class ApiCallViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):  # fmt: skip
    """The API-call console. The history (list and retrieve) shows every call, whoever made it,
    to a user who may view API calls (`apicall.view_apicall`), as the admin's history does:
    it is an operator's audit log, not a personal one. Newest first."""

    queryset = ApiCall.objects.select_related("user", "connection")
    serializer_class = ApiCallSerializer
    permission_classes = [ConsoleAccess]
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    filter_backends = [KnownParameters]
    pagination_class = NewestFirst

    def get_serializer_class(self):
        # The browsable API's form, and the schema's request body, are the call request.
        return CallRequestSerializer if self.action == "create" else ApiCallSerializer

    @extend_schema(
        request=CallRequestSerializer,
        responses={
            200: ApiCallSerializer,
            400: OpenApiResponse(
                description="Refused before anything was sent: `detail` names the field (url, "
                "method, headers, query, body, confirm_write, or connection: unknown, or a "
                "write on a key known to be read-only)."
            ),
            403: OpenApiResponse(
                description=f"{ERROR_RESPONSES['403']} A read-only token may run read "
                "functions only; running calls needs the permission apicall.use_console."
            ),
        },
    )
    def create(self, request):
        """Run one call against Digistore24 with the connection's key (which the server adds:
        it is never accepted from the caller) and answer what came back; the call is recorded
        in the history. Digistore24's errors are answers too (200, with `error` set); a request
        the rules refuse is a 400 and is not sent. A function that changes data (or an unknown
        one) needs `confirm_write: true`, and a writable token."""
        given = CallRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        call = dict(given.validated_data)
        connection = self._connection(call.pop("connection"))
        token = request.auth if isinstance(request.auth, ApiToken) else None
        try:
            # Validated first, so a refused request says what is wrong with it; then whether a
            # read-only token may run it. apicall_run validates again (the same rules, no I/O).
            spec = rules.call_spec(
                **call, key_read_only=connection.access == Connection.Access.READ_ONLY
            )
            if spec.is_write and token is not None and not token.writable:
                raise PermissionDenied(
                    f"This token is read-only: it may run read functions only, and "
                    f"{spec.function} is not one."
                )
            result = apicall_run(connection=connection, **call, user=request.user, token=token)
        except rules.CallRefused as refused:
            raise serializers.ValidationError({refused.field: [refused.message]}) from None
        return Response(ApiCallSerializer(result, context=self.get_serializer_context()).data)

    @staticmethod
    def _connection(public_id) -> Connection:
        try:
            return Connection.objects.get(public_id=public_id)
        except Connection.DoesNotExist:
            raise serializers.ValidationError(
                {"connection": ["No connection with this id (see /api/v1/connections/)."]}
            ) from None
