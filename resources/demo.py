"""Demo resources at every TLP level, shared across the demo agreements through the services.

One of them is shared under the agreement that expires within 30 days, so its end can be
watched: `tick` revokes the share, and downloads stop even before it runs.
"""

import json

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from agreements.models import Agreement
from portal import demo
from portal.models import Organisation
from portal.reauth import Reauthentication
from resources import services
from resources.models import Resource

User = get_user_model()


def seed(write) -> None:
    if Resource.objects.exists():
        write("Resources: already seeded.")
        return
    dsa = Agreement.objects.get(title="Bilateral threat intelligence exchange", status="active")
    ministry = Agreement.objects.get(title="Ministry incident reporting exchange")
    mou = Agreement.objects.get(title="Baltic-Nordic cyber cooperation memorandum")
    research = Agreement.objects.get(title="Joint research on ICS anomaly detection")

    landscape = _resource(
        "ee-csirt",
        "Quarterly threat landscape, Q3",
        "report",
        "threat_intelligence",
        "amber",
        "landscape-q3.pdf",
        _pdf("Quarterly threat landscape"),
        ["apt", "ransomware"],
    )
    _share(landscape, dsa, "fi-ncsc")
    feed = _resource(
        "ee-csirt",
        "Phishing indicators feed",
        "indicator_feed",
        "threat_intelligence",
        "green",
        "phishing-indicators.json",
        _indicators(),
        ["phishing", "ioc"],
    )
    _share(feed, dsa, "fi-ncsc")
    _share(feed, mou, "pl-cda")
    incidents = _resource(
        "ee-csirt",
        "Incident summary for the ministry",
        "report",
        "incidents",
        "amber",
        "incident-summary.txt",
        b"Incident summary\n\n12 significant incidents this quarter.\n",
        ["incidents"],
    )
    _share(incidents, ministry, "de-bmds")  # under the agreement that expires soon
    red = _resource(
        "fi-ncsc",
        "Adversary infrastructure notes",
        "threat_intelligence",
        "threat_intelligence",
        "red",
        "infrastructure-notes.txt",
        b"Named recipients only.\nC2 clusters observed...\n",
        ["apt"],
    )
    _share(red, dsa, "ee-csirt", users=["ee-csirt-reviewer", "ee-csirt-pm"])
    dataset = _resource(
        "nl-tucl",
        "ICS anomaly dataset",
        "dataset",
        "datasets",
        "amber",
        "ics-anomalies.csv",
        b"timestamp,plc,register,value\n2026-01-01T00:00:00Z,plc-1,40001,17\n",
        ["ics", "ot"],
    )
    _share(dataset, research, "fr-sentinelle")
    _share(dataset, research, "ee-csirt")
    tool = _resource(
        "fr-sentinelle",
        "Protocol fuzzing harness",
        "tool",
        "software_and_tools",
        "green",
        "fuzz-harness.zip",
        _zip(),
        ["fuzzing"],
    )
    _share(tool, research, "nl-tucl")
    _resource(
        "int-ccdc",
        "Tabletop exercise playbook",
        "training_material",
        "training_material",
        "clear",
        "playbook.txt",
        b"Tabletop exercise playbook\n\nPublic: TLP:CLEAR.\n",
        ["exercise"],
    )
    _resource(
        "pl-cda",
        "Crisis exercise injects (internal)",
        "exercise_material",
        "training_material",
        "amber_strict",
        "injects.txt",
        b"Inject 1: ...\n",
        ["exercise"],
    )
    write(f"Resources: {Resource.objects.count()} created and shared under the demo agreements.")


def _resource(owner, title, kind, category, tlp, name, content, tags):
    return services.create_resource(
        actor=_user(f"{owner}-pm"),
        file=ContentFile(content, name=name),
        title=title,
        description=f"{title}, provided by {Organisation.objects.get(slug=owner).name}.",
        kind=kind,
        data_category=category,
        tlp=tlp,
        tags=tags,
    )


def _share(resource, agreement, recipient, users=()):
    services.share_resource(
        actor=_user(f"{resource.owner.slug}-pm"),
        resource=resource,
        agreement=agreement,
        recipient=Organisation.objects.get(slug=recipient),
        recipient_users=[_user(u) for u in users],
        reauthentication=Reauthentication(timezone.now(), "password"),
    )


def _pdf(title: str) -> bytes:
    return (
        f"%PDF-1.4\n% {title}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n".encode()
    )


def _indicators() -> bytes:
    indicators = [{"type": "domain", "value": f"login-update-{n}.example"} for n in range(5)]
    return json.dumps({"indicators": indicators}, indent=2).encode()


def _zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Fuzzing harness for industrial protocols.\n")
    return buffer.getvalue()


def _user(username):
    return User.objects.select_related("membership__organisation").get(username=username)


demo.register("resources", seed)
