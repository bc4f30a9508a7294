from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from annotator.models import User


@admin.register(User)
class AnnotatorUserAdmin(UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active")
