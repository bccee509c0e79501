"""Resource fixtures: an A-B agreement in force, and resources uploaded through the services."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from resources import services
from tests.agreements.conftest import draft_between, fresh_reauth, sign_by_all

PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def upload(name="report.pdf", content=PDF_BYTES, content_type="application/pdf"):
    """A real uploaded file, as Django hands it to a view."""
    return SimpleUploadedFile(name, content, content_type=content_type)


def new_resource(world, *, actor=None, file=None, **metadata):
    values = {
        "title": "Quarterly threat landscape",
        "description": "Campaigns seen by the national CSIRT.",
        "kind": "report",
        "data_category": "threat_intelligence",
        "tlp": "amber",
        "tags": ["apt", "phishing"],
    }
    values.update(metadata)
    return services.create_resource(actor=actor or world.a_pm, file=file or upload(), **values)


def share_with_b(world, resource, **kwargs):
    kwargs.setdefault("reauthentication", fresh_reauth())
    return services.share_resource(
        actor=world.a_pm,
        resource=resource,
        agreement=world.ab_agreement,
        recipient=world.b,
        **kwargs,
    )


@pytest.fixture
def sharing(people, settings, tmp_path):
    """People of A, B and C; an A-B agreement in force (AMBER ceiling; threat intelligence
    and incidents); uploads go to a temporary private storage root."""
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }
    from agreements import services as agreement_services

    agreement = draft_between(people)
    agreement_services.submit(actor=people.a_pm, agreement=agreement)
    people.extra["ab_agreement"] = sign_by_all(people, agreement)
    people.extra["storage_root"] = tmp_path / "private"
    return people
