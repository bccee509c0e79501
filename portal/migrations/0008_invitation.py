"""Invitations: pending until the person sets a password, with resend and revoke.

Accounts invited before this migration that have no password of their own yet get their
pending invitation, dated from the membership (its link, if any, has long expired)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import portal.ids


def pending_invitations(apps, schema_editor):
    Membership = apps.get_model("portal", "Membership")
    Invitation = apps.get_model("portal", "Invitation")
    waiting = Membership.objects.filter(user__is_active=True, user__password__startswith="!")  # noqa: S106  (unusable)
    Invitation.objects.bulk_create(
        Invitation(id=portal.ids.new_id(), membership=m, sent_at=m.created_at) for m in waiting
    )


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0007_auditevent_object_histories"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Invitation",
            fields=[
                (
                    "id",
                    portal.ids.RandomIdField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("sent_at", models.DateTimeField()),
                ("times_sent", models.PositiveIntegerField(default=1)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "invited_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "membership",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="invitation",
                        to="portal.membership",
                    ),
                ),
                (
                    "revoked_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-sent_at", "pk"],
            },
        ),
        migrations.RunPython(pending_invitations, migrations.RunPython.noop),
    ]
