from django.urls import path

from agreements import views

app_name = "agreements"

urlpatterns = [
    path("", views.AgreementListView.as_view(), name="list"),
    path("new/", views.AgreementCreateView.as_view(), name="create"),
    path("<int:pk>/", views.AgreementDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.AgreementEditView.as_view(), name="edit"),
    path("<int:pk>/parties/<int:party_pk>/", views.PartyEditView.as_view(), name="party"),
    path("<int:pk>/submit/", views.SubmitView.as_view(), name="submit"),
    path("<int:pk>/withdraw/", views.WithdrawView.as_view(), name="withdraw"),
    path("<int:pk>/sign/", views.SignView.as_view(), name="sign"),
    path("<int:pk>/decline/", views.DeclineView.as_view(), name="decline"),
    path("<int:pk>/terminate/", views.TerminateView.as_view(), name="terminate"),
    path("<int:pk>/amend/", views.AmendView.as_view(), name="amend"),
    path("<int:pk>/evidence/", views.EvidenceView.as_view(), name="evidence"),
    path("<int:pk>/certificate/", views.CertificateView.as_view(), name="certificate"),
]
