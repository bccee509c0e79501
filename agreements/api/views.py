"""API of agreements: the same services as the web pages, state changes as POST actions."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from agreements import lifecycle, services
from agreements.api.serializers import (
    AgreementSerializer,
    DeclineSerializer,
    PartyDesignationSerializer,
    ReasonSerializer,
    ReauthenticationSerializer,
    TerminateSerializer,
)
from agreements.filters import AgreementFilter
from agreements.models import Agreement
from portal import audit, reauth
from portal.api.base import AccessViewSet, KeptListModelMixin
from portal.api.docs import describe
from portal.api.errors import Conflict, ErrorSerializer

PARTY_PK_PARAMETER = OpenApiParameter("party_pk", OpenApiTypes.INT, OpenApiParameter.PATH)


PARTY_MEMBERS = "members of the parties' organisations; anyone else gets 404."
PARTY_PM = "a programme manager of one of the parties (403 for other members of a party)."
ANSWERS_AGREEMENT = "the agreement as it is now (status, parties, signatures)."


@extend_schema_view(
    list=describe(
        "Lists the agreements your organisation is a party to, newest first; filter by status, "
        "kind and party, search the reference, title and purpose.",
        who="any signed-in member; only your organisation's agreements are listed.",
        answers="a page of agreements; an agreement your organisation is not party to never "
        "appears, nor counts.",
    ),
    retrieve=describe(
        "One agreement: terms, parties, designated signatories and signatures.",
        who=PARTY_MEMBERS,
        answers=ANSWERS_AGREEMENT,
    ),
    create=describe(
        "Drafts a new agreement. `parties` must include your own organisation and at least one "
        "other active organisation (by id).",
        who="programme managers.",
        answers="201 with the draft; your organisation's signatories are your colleagues "
        "holding the signatory role, and every other party is asked to designate its own.",
    ),
    update=describe(
        "Replaces a draft's terms and, if given, its parties (your organisation stays one).",
        who=PARTY_PM + " Only while it is a draft (409 after).",
        answers=ANSWERS_AGREEMENT,
    ),
    partial_update=describe(
        "Changes some of a draft's terms or its parties (your organisation stays one).",
        who=PARTY_PM + " Only while it is a draft (409 after).",
        answers=ANSWERS_AGREEMENT,
    ),
    designate=describe(
        "Designates a party's signatories (by username), how many of them must sign, and its "
        "legal, technical and incident contacts.",
        who="a programme manager of that party's own organisation, while the agreement is a "
        "draft; another party's is a 403, so nobody else learns who may sign for it.",
        answers=ANSWERS_AGREEMENT,
    ),
    submit=describe(
        "Submits a draft for signature: its text is frozen and its content hash fixed; every "
        "party must have designated its signatories.",
        who=PARTY_PM,
        answers=ANSWERS_AGREEMENT + " Status: awaiting signatures.",
    ),
    withdraw=describe(
        "Takes an agreement awaiting signatures back to draft; signatures given are voided and "
        "the optional reason is told to every party.",
        who=PARTY_PM,
        answers=ANSWERS_AGREEMENT + " Status: draft.",
    ),
    sign=describe(
        "Signs for your organisation, on the frozen content hash, after proving it is you "
        "(password, and authenticator code once set up). When every party has its signatures "
        "the agreement is signed, and in force from its effective date.",
        who="a signatory designated by a party, enrolled in two-factor authentication; "
        "signing twice is refused.",
        answers=ANSWERS_AGREEMENT,
    ),
    decline=describe(
        "Declines to sign, with a reason every party reads; the agreement goes back to draft "
        "and signatures given are voided.",
        who="a signatory designated by a party, with password (and code).",
        answers=ANSWERS_AGREEMENT + " Status: draft.",
    ),
    terminate=describe(
        "Ends a signed or active agreement, now or on a later date, with a reason; what was "
        "shared under it stops being available when it ends.",
        who="a signatory of one of the parties.",
        answers=ANSWERS_AGREEMENT,
    ),
    amend=describe(
        "Starts an amendment of an agreement in force: a new draft version with the same "
        "reference; the version in force stays until the amendment is signed.",
        who=PARTY_PM,
        answers="201 with the new draft version.",
    ),
    evidence=describe(
        "The JSON evidence bundle of a signed agreement: content, hash and signatures, signed "
        "with the portal's Ed25519 key (check it offline with `manage.py verify_evidence`). "
        "The download is audited.",
        who=PARTY_MEMBERS,
        answers="the bundle; 409 until every party has signed.",
    ),
)
class AgreementViewSet(
    KeptListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    AccessViewSet,
):
    """Agreements your organisation is a party to. Others answer 404."""

    queryset = Agreement.objects.all()
    serializer_class = AgreementSerializer
    filterset_class = AgreementFilter
    search_fields = ["reference", "title", "purpose"]
    ordering_fields = ["created_at", "reference", "expires_on"]
    ordering = ["-created_at"]
    access_actions = {
        "update": "edit",
        "partial_update": "edit",
        "designate": "edit",
        "submit": "submit",
        "withdraw": "withdraw",
        "sign": "sign",
        "decline": "sign",
        "terminate": "terminate",
        "amend": "amend",
        "evidence": "view",
    }

    def get_base_queryset(self):
        return Agreement.objects.prefetch_related(
            "parties__organisation",
            "parties__signatories",
            "signatures__user",
            "signatures__organisation",
        ).distinct()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        parties = data.pop("parties")
        serializer.instance = services.create_agreement(
            actor=self.request.user, parties=parties, **data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.update_draft(
            actor=self.request.user,
            agreement=Agreement.objects.get(pk=serializer.instance.pk),
            parties=data.pop("parties", None),
            **data,
        )

    @extend_schema(request=None, responses=AgreementSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._respond(services.submit(actor=request.user, agreement=self.get_object()))

    @extend_schema(
        parameters=[PARTY_PK_PARAMETER],
        request=PartyDesignationSerializer,
        responses=AgreementSerializer,
    )
    @action(detail=True, methods=["post"], url_path=r"parties/(?P<party_pk>[0-9]+)")
    def designate(self, request, pk=None, party_pk=None):
        """A party's own programme manager designates its signatories (and sets its details);
        another party's is a 403, so nobody else learns who may sign for it."""
        agreement = self.get_object()
        # A party is visible through its agreement only: another agreement's is a 404.
        party = agreement.parties.select_related("organisation", "agreement").filter(pk=party_pk)
        party = party.first()
        if party is None:
            raise NotFound("This agreement has no such party.")
        services.require_designation(actor=request.user, party=party)
        data = dict(self._valid(PartyDesignationSerializer))
        signatories = data.pop("signatories", None)
        services.update_party(actor=request.user, party=party, signatories=signatories, **data)
        return self._respond(agreement)

    @extend_schema(request=ReasonSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        agreement = self.get_object()
        data = self._valid(ReasonSerializer)
        return self._respond(
            services.withdraw(
                actor=request.user, agreement=agreement, reason=data.get("reason", "")
            )
        )

    @extend_schema(request=ReauthenticationSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """Sign for your organisation (a designated signatory, with your password and code).
        A second signature of the same content is refused with 409, saying when you signed."""
        agreement = self.get_object()
        proof = self._reauthenticate(self._valid(ReauthenticationSerializer))
        services.sign(actor=request.user, agreement=agreement, reauthentication=proof)
        return self._respond(Agreement.objects.get(pk=agreement.pk))

    @extend_schema(request=DeclineSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        agreement = self.get_object()
        data = self._valid(DeclineSerializer)
        proof = self._reauthenticate(data)
        return self._respond(
            services.decline(
                actor=request.user,
                agreement=agreement,
                reason=data["reason"],
                reauthentication=proof,
            )
        )

    @extend_schema(request=TerminateSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        agreement = self.get_object()
        data = self._valid(TerminateSerializer)
        return self._respond(services.terminate(actor=request.user, agreement=agreement, **data))

    @extend_schema(request=None, responses={201: AgreementSerializer})
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        amendment = services.amend(actor=request.user, agreement=self.get_object())
        return self._respond(amendment, status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            200: OpenApiResponse(description="The signed JSON evidence bundle."),
            409: OpenApiResponse(ErrorSerializer, description="Not every party has signed yet."),
        }
    )
    @action(detail=True, methods=["get"])
    def evidence(self, request, pk=None):
        from agreements import evidence

        agreement = self.get_object()
        if agreement.status not in lifecycle.SIGNED_STATES:
            raise Conflict("Evidence exists once every party has signed.")
        audit.record(request.user, "agreement.evidence_downloaded", agreement, file="evidence.json")
        return HttpResponse(evidence.build_bundle(agreement), content_type="application/json")

    def _valid(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _reauthenticate(self, data) -> reauth.Reauthentication:
        return reauth.reauthenticate(
            self.request.user, password=data["password"], otp=data.get("otp", "")
        )

    def _respond(self, agreement, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_base_queryset().get(pk=agreement.pk)
        return Response(self.get_serializer(fresh).data, status=code)
