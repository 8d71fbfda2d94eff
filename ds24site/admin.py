"""Django's and django-tasks' own admins (users, groups, background tasks), registered again
with the project's safe change list: their lists, too, take only their filters' parameters."""

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group, User
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from ds24site.admin_tools import SafeChangeListMixin


class UserAdmin(SafeChangeListMixin, auth_admin.UserAdmin):
    pass


class GroupAdmin(SafeChangeListMixin, auth_admin.GroupAdmin):
    pass


class TaskResultAdmin(SafeChangeListMixin, DBTaskResultAdmin):
    pass


for model, model_admin in [(User, UserAdmin), (Group, GroupAdmin), (DBTaskResult, TaskResultAdmin)]:
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
