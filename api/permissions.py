from rest_framework import permissions

from api.models import ApiToken


class ApiAccess(permissions.DjangoModelPermissions):
    """Who may call the API:

    - a bearer token (of an active user), or a staff member's session (the browsable API);
    - reading needs the model's view permission, like the admin;
    - anything but reading needs a token explicitly granted `writable` (and the model's
      add/change/delete permission), unless the endpoint decides that itself
      (`may_send_unsafe`).
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }
    message = "Your token or user lacks permission for this."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if token is None and not user.is_staff:
            return False  # sessions are for staff using the browsable API
        if request.method not in permissions.SAFE_METHODS and not self.may_send_unsafe(token):
            self.message = "This token is read-only."
            return False
        return super().has_permission(request, view)

    def may_send_unsafe(self, token: ApiToken | None) -> bool:
        """Whether this token (None: a staff session) may send a POST, PUT, PATCH or DELETE at
        all. An endpoint where only some of them change data overrides this and refuses the
        others itself, once it knows which kind the request is."""
        return token is not None and token.writable


def may_change(request, permission: str) -> bool:
    """Whether this request may use `permission` ("app.change_model"): its user has it, and it
    comes with a staff session or a writable token, not a read-only one. What only those who
    may change a thing get to see (a webhook's receive URL) is shown on this."""
    token = request.auth if isinstance(request.auth, ApiToken) else None
    if token is not None and not token.writable:
        return False
    return request.user.has_perm(permission)
