from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """The account of a person or of a pipeline (a service user with an API token).

    Custom from the first migration so that later fields (avatar, preferences, SSO ids)
    never need a swap of AUTH_USER_MODEL.
    """

    class Meta:
        constraints = [
            # Sign-in by email (later, allauth) needs one account per address; empty
            # emails stay allowed for service users.
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_unique_ci",
                condition=~models.Q(email=""),
            )
        ]

    def __str__(self) -> str:
        return self.username
