"""The site's URLs: the core's pages here; each app's pages and API under their prefixes."""

from django.contrib import admin
from django.urls import include, path

from agreements import views as agreement_views
from portal import views
from portal.api import views as api_views

portal_patterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("organisations/", views.OrganisationListView.as_view(), name="organisation-list"),
    # Outside organisations/ so that no organisation's short name can shadow it.
    path(
        "suggest/organisations/",
        views.OrganisationSuggestView.as_view(),
        name="organisation-suggest",
    ),
    path(
        "organisations/<slug:slug>/",
        views.OrganisationDetailView.as_view(),
        name="organisation-detail",
    ),
    path(
        "organisations/<slug:slug>/audit/",
        views.OrganisationAuditView.as_view(),
        name="organisation-audit",
    ),
    path(
        "organisations/<slug:slug>/members/",
        views.MemberListView.as_view(),
        name="member-list",
    ),
    path(
        "organisations/<slug:slug>/members/invite/",
        views.InviteMemberView.as_view(),
        name="member-invite",
    ),
    path(
        "organisations/<slug:slug>/members/invite/username/",
        views.UsernameSuggestionView.as_view(),
        name="member-username",
    ),
    path(
        "organisations/<slug:slug>/members/<int:member_pk>/invitation/resend/",
        views.InvitationResendView.as_view(),
        name="member-invitation-resend",
    ),
    path(
        "organisations/<slug:slug>/members/<int:member_pk>/invitation/revoke/",
        views.InvitationRevokeView.as_view(),
        name="member-invitation-revoke",
    ),
    path(
        "organisations/<slug:slug>/members/<int:member_pk>/",
        views.MemberRolesView.as_view(),
        name="member-roles",
    ),
    path(
        "organisations/<slug:slug>/members/<int:member_pk>/activation/",
        views.MemberActivationView.as_view(),
        name="member-activation",
    ),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/read/",
        views.NotificationReadAllView.as_view(),
        name="notifications-read-all",
    ),
    path(
        "notifications/<int:notice_pk>/open/",
        views.NotificationOpenView.as_view(),
        name="notification-open",
    ),
    path(
        "notifications/<int:notice_pk>/read/",
        views.NotificationReadView.as_view(),
        name="notification-read",
    ),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("profile/token/", views.TokenView.as_view(), name="profile-token"),
    path(
        "profile/sign-out-everywhere/",
        views.SignOutEverywhereView.as_view(),
        name="sign-out-everywhere",
    ),
]

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    path("agreements/", include("agreements.urls")),
    path("resources/", include(("resources.report_urls", "resource-reports"))),
    path("resources/", include("resources.urls")),
    path("calendar/", include(("projects.feed_urls", "calendar"))),
    path("projects/", include("projects.urls")),
    path("intel/", include("intel.urls")),
    path("taxii2/", include("intel.taxii.urls")),
    path(
        "accounts/password/change/",
        views.PasswordChangeView.as_view(),
        name="account_change_password",
    ),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("portal.api.urls")),
    path("api/schema/", api_views.SchemaView.as_view(), name="api-schema"),
    path("api/docs/", api_views.SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path(".well-known/portal-signing-key", views.SigningKeyView.as_view(), name="signing-key"),
    path(
        "evidence/verify.py",
        agreement_views.VerifierDownloadView.as_view(),
        name="evidence-verifier",
    ),
]

handler400 = "portal.errors.bad_request"
handler403 = "portal.errors.permission_denied"
handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"
